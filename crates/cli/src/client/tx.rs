#[derive(clap::Subcommand)]
pub enum TxCommand {}

pub fn run(cmd: TxCommand) -> anyhow::Result<()> {
    match cmd {}
}
