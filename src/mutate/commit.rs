//! The commit point of every change: the index is refreshed for exactly
//! the records a handler touched, then the downstream rules run.

use crate::id::ObjectId;
use crate::model::{Dirty, Model};
use crate::Engine;

/// Which shares the downstream rules reconsider after a change.
#[derive(Clone, Copy, Debug)]
pub(super) enum Cascade<'a> {
    /// None: the change cannot break a share's chain from the owner.
    Nothing,
    /// Those around these objects (see [`Engine::cascade`]).
    Around(&'a [ObjectId]),
    /// Every share: a deletion's effects on shares are not local.
    All,
}

impl Engine {
    /// Makes the index reflect the change recorded in `dirty`, then runs
    /// the downstream rules (under [`Downstream::Cascade`]) as `cascade`
    /// says. Every handler that changes the model goes through here.
    ///
    /// [`Downstream::Cascade`]: crate::Downstream::Cascade
    pub(super) fn commit(&mut self, dirty: Dirty, cascade: Cascade<'_>) {
        self.index.refresh(&self.model, dirty);
        match cascade {
            Cascade::Nothing => {}
            Cascade::Around(roots) => self.cascade(roots),
            Cascade::All => self.cascade_all(),
        }
    }

    /// Makes the change `apply` records, then commits it.
    pub(super) fn change(
        &mut self,
        cascade: Cascade<'_>,
        apply: impl FnOnce(&mut Model, &mut Dirty),
    ) {
        let mut dirty = Dirty::default();
        apply(&mut self.model, &mut dirty);
        self.commit(dirty, cascade);
    }
}
