//! `tally dev`: a single-node chain for development.

#[derive(clap::Args)]
pub struct DevArgs {}

pub fn run(_args: DevArgs) -> anyhow::Result<()> {
    anyhow::bail!("tally dev is not wired yet")
}
