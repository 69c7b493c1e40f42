//! The block tree against a simple model: the best tip is the heaviest
//! block (ties to the lower hash) whatever order blocks arrive in, routes
//! lead from the head to the best tip, and finalizing never loses the best
//! chain.

use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};
use tally_chain::{BlockTree, Inserted, TreeError, Weight};
use tally_primitives::{Header, SealedHeader, B256};

/// A random tree: block i > 0 builds on an earlier block with some work.
fn blocks(shape: &[(usize, u8)]) -> Vec<(SealedHeader, Weight)> {
    let genesis = Header::default().seal_slow();
    let mut out = vec![(genesis, Weight(0))];
    for (i, (parent, work)) in shape.iter().enumerate() {
        let (p, pw) = out[parent % out.len()].clone();
        let header = Header {
            parent_hash: p.hash,
            number: p.number + 1,
            // Distinct blocks even on the same parent.
            extra_data: (i as u64).to_be_bytes().to_vec().into(),
            ..Default::default()
        }
        .seal_slow();
        out.push((header, Weight(pw.0 + 1 + u128::from(*work % 4))));
    }
    out
}

/// The model: the heaviest block, ties to the lower hash.
fn model_best(all: &[(SealedHeader, Weight)]) -> B256 {
    all.iter()
        .max_by_key(|(h, w)| (*w, std::cmp::Reverse(h.hash)))
        .map(|(h, _)| h.hash)
        .unwrap()
}

/// Inserts in `order`, holding back blocks whose parent has not arrived
/// (as the node does with orphans until it fetches their parents).
fn build(all: &[(SealedHeader, Weight)], order: &[usize]) -> BlockTree {
    let mut tree = BlockTree::new(all[0].0.clone(), all[0].1);
    let mut waiting: VecDeque<usize> = order.iter().copied().filter(|i| *i != 0).collect();
    let mut stalled = 0;
    while let Some(i) = waiting.pop_front() {
        let (h, w) = all[i].clone();
        match tree.insert(h, w) {
            Ok(_) => stalled = 0,
            Err(TreeError::UnknownParent { .. }) => {
                waiting.push_back(i);
                stalled += 1;
                assert!(stalled <= waiting.len(), "a block's parent never arrives");
            }
            Err(e) => panic!("{e}"),
        }
    }
    tree
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut s = seed | 1;
    for i in (1..n).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
    v
}

proptest! {
    #[test]
    fn any_arrival_order_gives_the_same_best_tip(
        shape in prop::collection::vec((0usize..64, any::<u8>()), 1..60),
        seeds in prop::collection::vec(any::<u64>(), 1..5),
    ) {
        let all = blocks(&shape);
        let expected = model_best(&all);
        for seed in seeds {
            let tree = build(&all, &shuffled(all.len(), seed));
            prop_assert_eq!(tree.best().header.hash, expected);
            prop_assert_eq!(tree.len(), all.len());
        }
    }

    #[test]
    fn routes_lead_from_the_head_to_the_best_tip(
        shape in prop::collection::vec((0usize..64, any::<u8>()), 1..60),
        head_pick in any::<usize>(),
    ) {
        let all = blocks(&shape);
        let mut tree = build(&all, &(0..all.len()).collect::<Vec<_>>());
        let head = all[head_pick % all.len()].0.hash;
        tree.set_head(head).unwrap();
        let best = tree.best().header.hash;
        let route = tree.route(&head, &best).unwrap();
        // Unwinding walks down from the head to the ancestor...
        let mut at = head;
        for h in &route.unwind {
            prop_assert_eq!(h.hash, at);
            at = h.parent_hash;
        }
        prop_assert_eq!(at, route.ancestor.hash);
        // ...and applying walks up from it to the best tip.
        for h in &route.apply {
            prop_assert_eq!(h.parent_hash, at);
            at = h.hash;
        }
        prop_assert_eq!(at, best);
    }

    #[test]
    fn finalizing_keeps_the_best_chain_and_nothing_below_the_root(
        shape in prop::collection::vec((0usize..64, any::<u8>()), 1..60),
        depth in 0u64..8,
    ) {
        let all = blocks(&shape);
        let mut tree = build(&all, &(0..all.len()).collect::<Vec<_>>());
        let best = tree.best().header.clone();
        tree.set_head(best.hash).unwrap();
        let final_number = best.number.saturating_sub(depth);
        let root = tree.ancestor_at(&best.hash, final_number).unwrap().header.hash;
        let dropped = tree.finalize(&root).unwrap();
        prop_assert_eq!(tree.best().header.hash, best.hash);
        prop_assert_eq!(tree.root().header.hash, root);
        let parents: HashMap<B256, B256> =
            all.iter().map(|(h, _)| (h.hash, h.parent_hash)).collect();
        for (h, _) in &all {
            let kept = tree.contains(&h.hash);
            // Kept exactly when it descends from (or is) the new root.
            let mut at = h.hash;
            let mut descends = false;
            for _ in 0..=all.len() {
                if at == root { descends = true; break; }
                match parents.get(&at) { Some(p) => at = *p, None => break }
            }
            prop_assert_eq!(kept, descends, "block {}", h.number);
            if !kept && h.number > final_number {
                prop_assert!(dropped.contains(&h.hash));
            }
        }
        // Nothing at or below the root can join again.
        let stale = Header { parent_hash: root, number: final_number, ..Default::default() }.seal_slow();
        prop_assert!(
            matches!(tree.insert(stale, Weight(u128::MAX)), Err(TreeError::BelowFinal { .. })),
            "a block at the final height was accepted"
        );
    }
}

#[test]
fn a_heavier_branch_becomes_best_and_an_invalid_one_is_removed() {
    let genesis = Header::default().seal_slow();
    let mut tree = BlockTree::new(genesis.clone(), Weight(0));
    let child = |parent: &SealedHeader, tag: u8| {
        Header {
            parent_hash: parent.hash,
            number: parent.number + 1,
            extra_data: vec![tag].into(),
            ..Default::default()
        }
        .seal_slow()
    };
    let a1 = child(&genesis, 1);
    let a2 = child(&a1, 1);
    let b1 = child(&genesis, 2);
    assert_eq!(
        tree.insert(a1.clone(), Weight(1)).unwrap(),
        Inserted::Added { best: true }
    );
    assert_eq!(
        tree.insert(a2.clone(), Weight(2)).unwrap(),
        Inserted::Added { best: true }
    );
    tree.set_head(a2.hash).unwrap();
    // A shorter branch with more work wins.
    assert_eq!(
        tree.insert(b1.clone(), Weight(5)).unwrap(),
        Inserted::Added { best: true }
    );
    assert_eq!(tree.insert(b1.clone(), Weight(5)).unwrap(), Inserted::Known);
    let route = tree.route(&a2.hash, &b1.hash).unwrap();
    assert_eq!(route.ancestor.hash, genesis.hash);
    assert_eq!(route.unwind.len(), 2);
    assert_eq!(route.apply.len(), 1);
    // Found invalid: removed with what builds on it, the best falls back.
    let b2 = child(&b1, 2);
    tree.insert(b2.clone(), Weight(6)).unwrap();
    let removed = tree.remove_subtree(&b1.hash);
    assert_eq!(removed.len(), 2);
    assert_eq!(tree.best().header.hash, a2.hash);
    // The head's own chain cannot be removed.
    assert!(tree.remove_subtree(&a1.hash).is_empty());
    let orphan = Header {
        parent_hash: B256::repeat_byte(9),
        number: 3,
        ..Default::default()
    }
    .seal_slow();
    assert!(matches!(
        tree.insert(orphan, Weight(9)),
        Err(TreeError::UnknownParent { .. })
    ));
}
