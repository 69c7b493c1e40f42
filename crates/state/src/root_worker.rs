//! State roots of a run's blocks, computed on a second thread behind
//! execution ([`crate::BlockBatch::append_deferred`]).
//!
//! The worker reads the tree stored before the run through its own read
//! transaction and the nodes the run made from memory ([`RunTree`]), so it
//! never touches the run's write transaction. It checks each block's claimed
//! root in order and stops at the first that differs.

use crate::{
    run_tree::RunTree,
    trie::{self, EncodedNodes, NodeReader, ReadNodes},
    StateError,
};
use alloy_primitives::B256;
use jmt::{KeyHash, OwnedValue};
use std::{
    sync::mpsc::{sync_channel, Receiver, SyncSender},
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// How far the worker may fall behind before appends wait for it.
const LAG: usize = 256;

/// One block's tree writes and the root its header claims.
pub(crate) struct Job {
    pub number: u64,
    pub claimed: B256,
    pub set: Vec<(KeyHash, Option<OwnedValue>)>,
}

/// What the worker leaves when every root matched.
pub(crate) struct Finished {
    /// Tree nodes to write, in version order.
    pub nodes: Vec<EncodedNodes>,
    /// Time spent computing roots.
    pub busy: Duration,
}

pub(crate) struct RootWorker {
    jobs: Option<SyncSender<Job>>,
    handle: JoinHandle<Result<Finished, StateError>>,
}

impl RootWorker {
    pub fn spawn(nodes: ReadNodes, tree: RunTree) -> Result<Self, StateError> {
        let (jobs, rx) = sync_channel(LAG);
        let handle = std::thread::Builder::new()
            .name("tally-roots".into())
            .spawn(move || work(NodeReader::new(nodes), tree, rx))
            .map_err(|e| StateError::trie(format!("cannot start the state root thread: {e}")))?;
        Ok(RootWorker {
            jobs: Some(jobs),
            handle,
        })
    }

    /// Queues a block; `false` when the worker has stopped (a root did not
    /// match, or reading the tree failed), which [`RootWorker::finish`] tells.
    pub fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }

    /// Waits for every queued block.
    pub fn finish(mut self) -> Result<Finished, StateError> {
        self.jobs = None;
        self.handle
            .join()
            .map_err(|_| StateError::trie("the state root thread panicked"))?
    }
}

fn work(
    nodes: NodeReader<ReadNodes>,
    mut tree: RunTree,
    jobs: Receiver<Job>,
) -> Result<Finished, StateError> {
    let mut out = Finished {
        nodes: Vec::new(),
        busy: Duration::ZERO,
    };
    for job in jobs {
        let started = Instant::now();
        let (root, new_nodes) = trie::apply_block(&tree.reader(&nodes), job.number, job.set)
            .map_err(StateError::trie)?;
        if root != job.claimed {
            return Err(StateError::StateRootMismatch {
                number: job.number,
                claimed: job.claimed,
                computed: root,
            });
        }
        out.nodes.extend(tree.add(job.number, new_nodes)?);
        out.busy += started.elapsed();
    }
    out.nodes.extend(tree.unwritten()?);
    Ok(out)
}
