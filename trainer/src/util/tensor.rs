//! Reading a tensor's values back into memory.

use burn::prelude::*;

/// The values of `t` as `f32`, row-major.
///
/// # Errors
/// When the backend cannot read the tensor back (a device error).
pub fn to_vec<const D: usize>(t: Tensor<D>) -> anyhow::Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| anyhow::anyhow!("reading a tensor back: {e:?}"))
}
