//! A chain database that can no longer be written (a full disk, a failing
//! device). redb commits atomically, so what is committed stays intact,
//! but after a failed write redb refuses every later one ("Previous I/O
//! error occurred"). Retrying would only log that forever while the pool
//! keeps taking transactions it will never mine; instead the node records
//! the fault once, says plainly what happened, refuses new transactions,
//! and asks to be shut down ([`crate::Node::failed`]).

use std::sync::OnceLock;

use tokio::sync::watch;

/// The node's storage fault, once one happened.
pub(crate) struct StorageFault {
    datadir: String,
    reason: OnceLock<String>,
    notify: watch::Sender<Option<String>>,
}

impl StorageFault {
    pub fn new(datadir: String) -> StorageFault {
        StorageFault {
            datadir,
            reason: OnceLock::new(),
            notify: watch::channel(None).0,
        }
    }

    /// Why the node stopped writing, if it did.
    pub fn reason(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }

    /// Records `error` if it is an I/O failure of the chain database; true
    /// when it is (now or earlier), so the caller stops retrying.
    pub fn check(&self, error: &(dyn std::error::Error + 'static)) -> bool {
        if self.reason.get().is_some() {
            return true;
        }
        let Some(cause) = io_cause(error) else {
            return false;
        };
        let reason = format!(
            "cannot write the chain database in {}: {cause}. Blocks already committed \
             are intact; the node stops accepting transactions and shuts down: free space \
             (or fix the device) and start it again",
            self.datadir
        );
        if self.reason.set(reason.clone()).is_ok() {
            tracing::error!("{reason}");
            self.notify.send_replace(Some(reason));
        }
        true
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<String>> {
        self.notify.subscribe()
    }
}

/// What in `error`'s chain says the database could not be written.
fn io_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(describe(io));
        }
        // Some layers keep only the text of the cause.
        let text = e.to_string();
        if text.contains("(os error 28)") {
            return Some("the disk is full (No space left on device)".into());
        }
        if let Some(at) = text.find("I/O error: ") {
            return Some(format!(
                "an I/O error ({})",
                &text[at + "I/O error: ".len()..]
            ));
        }
        // redb's answer to every write after a failed one; the first
        // failure's cause was logged when it happened.
        if text.contains("Previous I/O error occurred") {
            return Some("an earlier write to the disk failed".into());
        }
        next = e.source();
    }
    None
}

fn describe(io: &std::io::Error) -> String {
    // ENOSPC (28) and EDQUOT (122) on Linux.
    match io.raw_os_error() {
        Some(28) => format!("the disk is full ({io})"),
        Some(122) => format!("the disk quota is exhausted ({io})"),
        _ => format!("an I/O error ({io})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("chain database error: {0}")]
    struct Wrapped(#[source] std::io::Error);

    #[test]
    fn causes_known_only_by_their_text_are_found() {
        let e = std::io::Error::other(
            "chain database error: I/O error: No space left on device (os error 28)",
        );
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Text(String);
        assert_eq!(
            io_cause(&Text(e.to_string())).as_deref(),
            Some("the disk is full (No space left on device)")
        );
        let e = Text("chain database error: Previous I/O error occurred. Please close".into());
        assert_eq!(
            io_cause(&e).as_deref(),
            Some("an earlier write to the disk failed")
        );
        assert_eq!(io_cause(&Text("block 5 is invalid".into())), None);
    }

    #[test]
    fn a_full_disk_is_recorded_once_and_named() {
        let fault = StorageFault::new("/d".into());
        let mut seen = fault.subscribe();
        #[derive(Debug, thiserror::Error)]
        #[error("block 7 is invalid")]
        struct NotStorage;
        assert!(!fault.check(&NotStorage));
        assert!(fault.reason().is_none());
        let full = Wrapped(std::io::Error::from_raw_os_error(28));
        assert!(fault.check(&full));
        let reason = fault.reason().expect("recorded").to_string();
        assert!(reason.starts_with("cannot write the chain database in /d: the disk is full"));
        assert!(seen.has_changed().unwrap());
        assert_eq!(seen.borrow_and_update().as_deref(), Some(reason.as_str()));
        // Later faults keep the first reason.
        let other = Wrapped(std::io::Error::from_raw_os_error(5));
        assert!(fault.check(&other));
        assert_eq!(fault.reason(), Some(reason.as_str()));
    }
}
