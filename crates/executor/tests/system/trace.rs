//! Traceability through the executor: a registry with its parties, a
//! product's registration and events, the head slot the offline checker
//! recomputes, and refusals.

use super::assets::dev_chain;
use super::chain::{user, Chain, User};
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolEvent;
use tally_executor::{
    system::{self, abi::ITallyTrace as T, TRACE},
    StateSource,
};
use tally_verify::records::{
    trace::{head_slot, next_head, product_key, registration_head},
    TraceRole,
};

const ID: &str = "SKU-42/lot-7";

fn head(chain: &Chain, product_id: &str) -> B256 {
    chain
        .state
        .storage(&TRACE, &head_slot(product_key(product_id)))
        .unwrap()
        .into()
}

/// The head recomputed from the views alone, as the checker does.
fn recomputed_head(chain: &Chain, product_id: &str) -> B256 {
    let p = system::trace::product(&chain.state, product_id)
        .unwrap()
        .unwrap();
    let start = registration_head(
        product_key(product_id),
        p.registry,
        p.manufacturer,
        p.timestamp,
        p.block_number,
        &p.description,
    );
    system::trace::events(&chain.state, product_id)
        .unwrap()
        .iter()
        .fold(start, |prev, e| {
            next_head(
                prev,
                e.party,
                e.role,
                e.timestamp,
                e.block_number,
                &e.status,
                &e.location,
                &e.documents,
            )
        })
}

fn authorize(chain: &mut Chain, admin: &User, registry: u64, party: Address, role: TraceRole) {
    assert!(chain.send(
        admin,
        TRACE,
        T::authorizeCall {
            registry,
            party,
            role: role.code(),
        }
    ));
}

fn append(
    chain: &mut Chain,
    party: &User,
    status: &str,
    location: &str,
    documents: Vec<B256>,
) -> bool {
    chain.send(
        party,
        TRACE,
        T::appendEventCall {
            productId: ID.into(),
            status: status.into(),
            location: location.into(),
            documents,
        },
    )
}

/// A registry (id 1) run by user 1, with user 2 manufacturer, user 3
/// shipper and user 4 retailer.
fn supply_chain() -> Chain {
    let mut chain = dev_chain();
    let admin = user(1);
    let tx = chain.sys_tx(
        &admin,
        TRACE,
        T::createRegistryCall {
            name: "cold chain".into(),
        },
    );
    let out = chain.block(vec![(tx, admin.address)]);
    assert!(out.receipts[0].success);
    let ev = T::RegistryCreated::decode_log(&out.receipts[0].logs[0]).unwrap();
    assert_eq!((ev.registry, ev.admin), (1, admin.address));
    authorize(
        &mut chain,
        &admin,
        1,
        user(2).address,
        TraceRole::Manufacturer,
    );
    authorize(&mut chain, &admin, 1, user(3).address, TraceRole::Shipper);
    authorize(&mut chain, &admin, 1, user(4).address, TraceRole::Retailer);
    chain
}

fn register(chain: &mut Chain, manufacturer: &User, id: &str) -> bool {
    chain.send(
        manufacturer,
        TRACE,
        T::registerProductCall {
            productId: id.into(),
            registry: 1,
            description: "vaccine, 100 doses".into(),
        },
    )
}

#[test]
fn a_product_history_chains_into_its_head_slot() {
    let mut chain = supply_chain();
    assert_eq!(
        system::trace::registry(&chain.state, 1).unwrap(),
        Some((user(1).address, "cold chain".to_string()))
    );
    assert!(system::trace::registry(&chain.state, 2).unwrap().is_none());
    assert_eq!(
        system::trace::role_of(&chain.state, 1, user(3).address).unwrap(),
        2
    );
    assert_eq!(
        chain.view(
            TRACE,
            T::roleOfCall {
                registry: 1,
                party: user(4).address
            }
        ),
        4
    );
    let r = chain.view(TRACE, T::registryCall { id: 1 });
    assert_eq!((r.admin, r.name.as_str()), (user(1).address, "cold chain"));

    let tx = chain.sys_tx(
        &user(2),
        TRACE,
        T::registerProductCall {
            productId: ID.into(),
            registry: 1,
            description: "vaccine, 100 doses".into(),
        },
    );
    let out = chain.block(vec![(tx, user(2).address)]);
    assert!(out.receipts[0].success);
    let ev = T::ProductRegistered::decode_log(&out.receipts[0].logs[0]).unwrap();
    assert_eq!(ev.product, product_key(ID));
    assert_eq!((ev.registry, ev.manufacturer), (1, user(2).address));
    assert_eq!(ev.productId, ID);
    let (block, timestamp) = (chain.number, 1000 + chain.number - 1);
    assert_eq!(
        head(&chain, ID),
        registration_head(
            product_key(ID),
            1,
            user(2).address,
            timestamp,
            block,
            "vaccine, 100 doses"
        )
    );

    let doc = B256::repeat_byte(0xd0);
    assert!(append(
        &mut chain,
        &user(2),
        "packed",
        "Lyon plant",
        vec![doc]
    ));
    assert!(append(&mut chain, &user(3), "shipped", "", vec![]));
    let tx = chain.sys_tx(
        &user(4),
        TRACE,
        T::appendEventCall {
            productId: ID.into(),
            status: "received".into(),
            location: "Store 12, Geneva".into(),
            documents: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
        },
    );
    let out = chain.block(vec![(tx, user(4).address)]);
    assert!(out.receipts[0].success);
    let ev = T::TraceEvent::decode_log(&out.receipts[0].logs[0]).unwrap();
    assert_eq!(
        (ev.product, ev.party, ev.index, ev.role),
        (product_key(ID), user(4).address, 2, 4)
    );
    assert_eq!(ev.documents.len(), 2);

    let events = system::trace::events(&chain.state, ID).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        (events[0].party, events[0].role, events[0].status.as_str()),
        (user(2).address, 1, "packed")
    );
    assert_eq!(events[0].documents, vec![doc]);
    assert_eq!((events[1].role, events[1].location.as_str()), (2, ""));
    assert_eq!(events[2].location, "Store 12, Geneva");
    assert_eq!(events[2].block_number, chain.number);
    assert_eq!(events[2].timestamp, 1000 + chain.number - 1);

    // The slot holds exactly the chain the checker rebuilds from the views.
    assert_eq!(head(&chain, ID), recomputed_head(&chain, ID));

    // The ABI views agree with the Rust ones.
    let p = chain.view(
        TRACE,
        T::productCall {
            productId: ID.into(),
        },
    );
    assert_eq!(
        (p.registry, p.manufacturer, p.eventCount),
        (1, user(2).address, 3)
    );
    assert_eq!(p.description, "vaccine, 100 doses");
    let e = chain.view(
        TRACE,
        T::eventAtCall {
            productId: ID.into(),
            index: 0,
        },
    );
    assert_eq!(
        (e.party, e.role, e.status.as_str(), e.location.as_str()),
        (user(2).address, 1, "packed", "Lyon plant")
    );
    assert_eq!(e.documents, vec![doc]);
    let reason = chain.revert_of(
        Address::ZERO,
        TRACE,
        T::eventAtCall {
            productId: ID.into(),
            index: 3,
        },
    );
    assert!(reason.contains("has 3 events"), "{reason}");
    let unknown = chain.view(
        TRACE,
        T::productCall {
            productId: "nope".into(),
        },
    );
    assert_eq!((unknown.registry, unknown.eventCount), (0, 0));
    assert!(system::trace::product(&chain.state, "nope")
        .unwrap()
        .is_none());
    assert!(system::trace::events(&chain.state, "nope")
        .unwrap()
        .is_empty());
}

#[test]
fn unauthorised_parties_and_duplicates_are_refused_with_reasons() {
    let mut chain = supply_chain();
    assert!(register(&mut chain, &user(2), ID));
    let before = head(&chain, ID);

    // A party without a role cannot append: the call and the transaction fail.
    let outsider = user(5);
    let c = T::appendEventCall {
        productId: ID.into(),
        status: "tampered".into(),
        location: String::new(),
        documents: vec![],
    };
    let reason = chain.revert_of(outsider.address, TRACE, c);
    assert!(
        reason.contains(&format!(
            "{} is not authorised in registry 1",
            outsider.address
        )),
        "{reason}"
    );
    assert!(!append(&mut chain, &outsider, "tampered", "", vec![]));
    assert_eq!(head(&chain, ID), before);
    assert!(system::trace::events(&chain.state, ID).unwrap().is_empty());

    // A removed party is refused as well.
    assert!(append(&mut chain, &user(3), "shipped", "", vec![]));
    assert!(chain.send(
        &user(1),
        TRACE,
        T::authorizeCall {
            registry: 1,
            party: user(3).address,
            role: 0
        }
    ));
    assert_eq!(
        system::trace::role_of(&chain.state, 1, user(3).address).unwrap(),
        0
    );
    assert!(!append(&mut chain, &user(3), "shipped again", "", vec![]));

    // Only a manufacturer registers, and an ID once.
    let reason = chain.revert_of(
        user(4).address,
        TRACE,
        T::registerProductCall {
            productId: "other".into(),
            registry: 1,
            description: String::new(),
        },
    );
    assert!(
        reason.contains("is not a manufacturer in registry 1"),
        "{reason}"
    );
    let reason = chain.revert_of(
        user(2).address,
        TRACE,
        T::registerProductCall {
            productId: ID.into(),
            registry: 1,
            description: String::new(),
        },
    );
    assert_eq!(reason, format!("product {ID} is already registered"));
    assert!(!register(&mut chain, &user(2), ID));

    // Only the admin authorises, and only known roles.
    let reason = chain.revert_of(
        user(2).address,
        TRACE,
        T::authorizeCall {
            registry: 1,
            party: outsider.address,
            role: 2,
        },
    );
    assert!(reason.contains("only registry 1's admin"), "{reason}");
    let reason = chain.revert_of(
        user(1).address,
        TRACE,
        T::authorizeCall {
            registry: 1,
            party: outsider.address,
            role: 6,
        },
    );
    assert!(reason.contains("role 6 is unknown"), "{reason}");
    let reason = chain.revert_of(
        user(1).address,
        TRACE,
        T::authorizeCall {
            registry: 9,
            party: outsider.address,
            role: 2,
        },
    );
    assert!(reason.contains("no registry 9"), "{reason}");

    // Event fields within bounds.
    let reason = |status: &str, location: &str, documents: Vec<B256>| {
        chain.revert_of(
            user(2).address,
            TRACE,
            T::appendEventCall {
                productId: ID.into(),
                status: status.into(),
                location: location.into(),
                documents,
            },
        )
    };
    assert!(reason("", "", vec![]).contains("a status has 1 to 128 bytes"));
    assert!(reason("ok", &"l".repeat(257), vec![]).contains("at most 256 bytes"));
    assert!(reason("ok", "", vec![B256::repeat_byte(1); 17]).contains("at most 16 documents"));
    assert!(reason("ok", "", vec![B256::ZERO]).contains("zero hash"));
    let reason = chain.revert_of(
        user(2).address,
        TRACE,
        T::appendEventCall {
            productId: "missing".into(),
            status: "x".into(),
            location: String::new(),
            documents: vec![],
        },
    );
    assert!(
        reason.contains("product missing is not registered"),
        "{reason}"
    );

    // A manufacturer of another registry has no say in this one.
    assert!(chain.send(
        &user(5),
        TRACE,
        T::createRegistryCall {
            name: "other".into()
        }
    ));
    assert!(chain.send(
        &user(5),
        TRACE,
        T::authorizeCall {
            registry: 2,
            party: user(6).address,
            role: 1
        }
    ));
    assert!(!append(&mut chain, &user(6), "hijack", "", vec![]));
    assert_eq!(head(&chain, ID), recomputed_head(&chain, ID));
}
