//! The block explorer flags `tally dev` and `tally node` share, and
//! starting the explorer on a node (`tally_explorer`, served by the node).

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use tally_node::Node;

#[derive(clap::Args, Debug, Clone)]
pub struct ExplorerArgs {
    /// Address the block explorer (web UI) listens on.
    #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
    explorer_addr: IpAddr,
    /// Port of the block explorer; 0 picks a free port.
    #[arg(long, default_value_t = 8080, value_name = "PORT")]
    explorer_port: u16,
    /// Do not serve the block explorer.
    #[arg(long, conflicts_with_all = ["explorer_addr", "explorer_port"])]
    no_explorer: bool,
}

impl ExplorerArgs {
    /// Where to serve the explorer; `None` with `--no-explorer`.
    pub fn addr(&self) -> Option<SocketAddr> {
        (!self.no_explorer).then(|| SocketAddr::new(self.explorer_addr, self.explorer_port))
    }

    /// Starts the explorer on `node` as asked. If it cannot start (its
    /// port is taken), the node is stopped cleanly before the error is
    /// returned, so its database is closed when the command exits.
    pub async fn serve(&self, mut node: Node) -> anyhow::Result<Node> {
        let Some(addr) = self.addr() else {
            return Ok(node);
        };
        match node.start_explorer(addr).await {
            Ok(_) => Ok(node),
            Err(e) => {
                node.stop().await;
                Err(e).context("starting the block explorer")
            }
        }
    }
}

/// The banner line about the explorer.
pub fn banner_line(node: &Node) -> String {
    match node.explorer_addr() {
        Some(addr) => format!("Explorer: http://{addr}\n"),
        None => "Explorer: off (--no-explorer)\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        explorer: ExplorerArgs,
    }

    fn parse(args: &[&str]) -> Result<ExplorerArgs, clap::Error> {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|c| c.explorer)
    }

    #[test]
    fn the_explorer_is_on_by_default_at_8080() {
        assert_eq!(
            parse(&[]).unwrap().addr(),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        let a = parse(&["--explorer-port", "0", "--explorer-addr", "0.0.0.0"]).unwrap();
        assert_eq!(a.addr(), Some("0.0.0.0:0".parse().unwrap()));
        assert_eq!(parse(&["--no-explorer"]).unwrap().addr(), None);
        assert!(parse(&["--no-explorer", "--explorer-port", "9000"]).is_err());
        assert!(parse(&["--explorer-port", "http"]).is_err());
    }
}
