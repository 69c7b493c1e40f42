#[derive(clap::Subcommand)]
pub enum ContractCommand {}

pub fn run(cmd: ContractCommand) -> anyhow::Result<()> {
    match cmd {}
}
