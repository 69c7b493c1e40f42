#[derive(clap::Subcommand)]
pub enum KeyCommand {}

pub fn run(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {}
}
