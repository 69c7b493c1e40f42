//! A backend that implements only the required methods (over the fixture
//! chain), so the optional ones answer with the trait's defaults: a node
//! without a network that does not mine.

use std::sync::Arc;

use tally_rpc::Backend;

use super::TestBackend;

pub struct Bare(pub Arc<TestBackend>);

impl Backend for Bare {
    delegate_required_backend!(0);
}
