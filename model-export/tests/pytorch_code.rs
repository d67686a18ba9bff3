//! The generated PyTorch code names every layer the safetensors file holds weights for, in order
//! (the end-to-end test runs it under PyTorch against the trainer).

mod common;

use bottleneck_export::graph::Variant;

#[test]
fn every_weight_has_its_module() {
    for (variant, classifier) in [(Variant::Autoencoder, true), (Variant::Variational, false)] {
        let m = common::model(variant, classifier);
        let code = bottleneck_export::pytorch::export(&m).unwrap();
        let st = bottleneck_export::safetensors::export(&m).unwrap();
        let names = safetensors::SafeTensors::deserialize(&st)
            .unwrap()
            .names()
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        for name in names.iter().filter(|n| n.ends_with(".weight")) {
            // encoder.3.weight -> the encoder's Sequential has a line "# 3" holding a layer with weights.
            let parts: Vec<&str> = name.split('.').collect();
            let index = parts[parts.len() - 2];
            assert!(code.contains(&format!("# {index}\n")), "no module {index} for {name}");
        }
        assert!(code.contains("def load(") && code.contains("def encode(") && code.contains("def decode("));
        assert_eq!(code.contains("def classify("), classifier);
        assert_eq!(code.contains("[:, :LATENT]"), variant == Variant::Variational);
    }
}
