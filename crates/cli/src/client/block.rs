#[derive(clap::Args)]
pub struct BlockArgs {}

pub fn run(_args: BlockArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
