#[derive(clap::Subcommand)]
pub enum AccountCommand {}

pub fn run(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {}
}
