//! Drawing a model's lazily initialised weights in a fixed order.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;

/// Draws every lazily initialised parameter now, so that initial weights depend only on the seed
/// and not on which random operation happens to run first.
pub fn force_init<M: Module>(model: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}
