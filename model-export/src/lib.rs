//! Export of trained Bottleneck models: a burn-free description of the layer graph, int8
//! quantization into the runtime format, and validation vectors.
#![deny(missing_docs)]
