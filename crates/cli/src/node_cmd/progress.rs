//! Catch-up progress for `tally node`: a progress bar on a terminal, start
//! and end lines in the log otherwise, and a log writer that keeps log lines
//! from tearing the bar.

use std::{
    io::{IsTerminal, Write},
    sync::Mutex,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tally_node::SyncProgress;
use tokio::sync::watch;

/// A follower is briefly "behind" each time a peer announces a block it has
/// not imported yet; only a gap this large is shown as a catch-up.
const CATCH_UP_GAP: u64 = 4;

/// The bar on screen, if any: log lines are written "around" it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn set_bar(bar: Option<ProgressBar>) {
    if let Ok(mut slot) = BAR.lock() {
        *slot = bar;
    }
}

/// Writes log lines to stderr, hiding the progress bar while each line is
/// written so the two do not interleave on the terminal.
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Log output of `tally node`: `RUST_LOG` wins over `level` (the config
/// file's `log`), which wins over `info`.
pub fn init_logging(level: Option<&str>) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match EnvFilter::try_from_default_env() {
        Ok(f) => f,
        Err(_) => {
            let level = level.unwrap_or("info");
            EnvFilter::try_new(format!("{level},jsonrpsee=warn"))
                .map_err(|e| anyhow::anyhow!("invalid log level {level:?}: {e}"))?
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(|| LogWriter)
        .try_init();
    Ok(())
}

/// One catch-up in progress.
struct CatchUp {
    bar: Option<ProgressBar>,
    started: Instant,
    from: u64,
}

impl CatchUp {
    fn rate(&self, current: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        current.saturating_sub(self.from) as f64 / secs
    }
}

/// Follows `progress` until the node stops: shows each catch-up from its
/// start (the local head is [`CATCH_UP_GAP`] or more behind a peer) to its
/// end (level with the best peer).
pub async fn report(mut progress: watch::Receiver<SyncProgress>) {
    let terminal = std::io::stderr().is_terminal();
    let mut catch_up: Option<CatchUp> = None;
    loop {
        let p = *progress.borrow_and_update();
        if catch_up.is_none() && p.highest >= p.current + CATCH_UP_GAP {
            tracing::info!(
                from = p.current,
                to = p.highest,
                "catching up with peers: {} blocks behind",
                p.highest - p.current
            );
            let bar = terminal.then(|| new_bar(p));
            if let Some(bar) = &bar {
                set_bar(Some(bar.clone()));
            }
            catch_up = Some(CatchUp {
                bar,
                started: Instant::now(),
                from: p.current,
            });
        }
        if let Some(c) = &catch_up {
            if p.is_syncing() {
                if let Some(bar) = &c.bar {
                    bar.set_length(p.highest.saturating_sub(c.from));
                    bar.set_position(p.current.saturating_sub(c.from));
                    bar.set_message(format!(
                        "#{} of #{} ({:.0} blocks/s)",
                        p.current,
                        p.highest,
                        c.rate(p.current)
                    ));
                }
            } else {
                if let Some(bar) = &c.bar {
                    bar.finish_and_clear();
                }
                set_bar(None);
                tracing::info!(
                    head = p.current,
                    "caught up: {} blocks in {:.1} s ({:.0} blocks/s), following new blocks",
                    p.current.saturating_sub(c.from),
                    c.started.elapsed().as_secs_f64(),
                    c.rate(p.current)
                );
                catch_up = None;
            }
        }
        if progress.changed().await.is_err() {
            break;
        }
    }
    set_bar(None);
}

fn new_bar(p: SyncProgress) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(p.highest.saturating_sub(p.current)),
        ProgressDrawTarget::stderr(),
    );
    let style =
        ProgressStyle::with_template("syncing [{elapsed_precise}] [{wide_bar}] {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
