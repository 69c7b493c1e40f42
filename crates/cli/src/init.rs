//! `tally init`: writes a new network's files (the layout `tally testnet`
//! uses, see [`crate::testnet::layout`]) without starting anything, and
//! prints the command that runs each node, so the nodes can be started by
//! hand, under a supervisor, or on other machines after editing their
//! addresses.

use std::path::PathBuf;

use tally_primitives::{BftSpec, EngineSpec, B256};

use crate::testnet::{self, layout, NewNetworkArgs};

#[derive(clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    new: NewNetworkArgs,
    /// The directory to write into; it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let opts = args.new.create_options()?;
    let made = layout::create(&args.out, &opts)?;
    let mut out = format!(
        "Wrote a {}-node {} network (chain id {}) to {}\n\n",
        made.nodes.len(),
        opts.consensus.name(),
        made.spec.chain_id,
        made.dir.display()
    );
    out.push_str(&format!("  chain spec: {}\n", made.chain_path.display()));
    for node in &made.nodes {
        let part = match &made.spec.engine {
            EngineSpec::Dev { authority, .. } if *authority == Some(node.public) => {
                "the producer".to_string()
            }
            EngineSpec::Dev { .. } => "a follower".to_string(),
            EngineSpec::Pow(_) => format!("mines to {}", node.settings.beneficiary),
            EngineSpec::Bft(bft) => bft_part(bft, node.public),
        };
        out.push_str(&format!(
            "  node {}: RPC http://{}, {part}\n",
            node.index, node.settings.rpc
        ));
    }
    if let EngineSpec::Bft(bft) = &made.spec.engine {
        out.push_str(&format!(
            "\n  {}\n  a consortium: only these {} nodes may connect; each member's account is an \
             admin\n",
            testnet::fault_tolerance_line(bft),
            made.spec.members.len()
        ));
    }
    out.push_str("\nStart each node with:\n");
    for node in &made.nodes {
        out.push_str(&format!(
            "  tally node --config {} --chain {}\n",
            node.config_path.display(),
            made.chain_path.display()
        ));
    }
    out.push_str(&format!(
        "\nor all of them at once: tally testnet --dir {}\n",
        made.dir.display()
    ));
    if let EngineSpec::Pow(_) = made.spec.engine {
        out.push_str(
            "\nStart the nodes soon: the difficulty rule is anchored at the genesis time (now), \
             so a chain started\nlater reads as behind its schedule and mines fast until it \
             catches up.\n",
        );
    }
    print!("{out}");
    Ok(())
}

/// "validator, member org1, account 0x…": the node's role on a BFT chain
/// and the member whose node it is.
fn bft_part(bft: &BftSpec, node: B256) -> String {
    let role = if bft.validators.iter().any(|v| v.key == node) {
        "validator"
    } else {
        "member (not a validator)"
    };
    match bft.members.iter().find(|m| m.node_key == node) {
        Some(m) => format!("{role}, member {}, account {}", m.name, m.account),
        None => role.to_string(),
    }
}
