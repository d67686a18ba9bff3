//! Imports the ONNX files that Bottleneck exported (models/*.onnx) back into burn with burn-import.
use burn_import::onnx::{LoadStrategy, ModelGen};

fn main() {
    ModelGen::new()
        .input("models/encoder.onnx")
        .input("models/decoder.onnx")
        .out_dir("model/")
        .load_strategy(LoadStrategy::Embedded)
        .run_from_script();
}
