//! Waiting for SIGINT (Ctrl-C) or SIGTERM, shared by the commands that run
//! until stopped (`tally dev`, `tally node`, `tally testnet`).

use anyhow::Context;

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the moment of install.
pub struct Shutdown {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Installs the handlers; must be called inside a tokio runtime. Install
    /// before announcing readiness, so a signal sent as soon as the banner
    /// appears still shuts down cleanly.
    pub fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    /// Resolves at the next SIGINT or SIGTERM. Cancel-safe: a `select!` that
    /// drops this future loses no signal.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }

    pub async fn wait(mut self) {
        self.recv().await
    }
}
