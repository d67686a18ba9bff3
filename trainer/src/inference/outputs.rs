//! Float outputs of a loaded model on a batch of images.

/// Float outputs for a batch of images; a vector is empty when the model has no such output.
#[derive(Debug, Clone, Default)]
pub struct FloatOutputs {
    /// Codes, `latent` per image (a VAE's mean).
    pub codes: Vec<f32>,
    /// Reconstructions, `pixels` per image.
    pub reconstructions: Vec<f32>,
    /// Logits, `classes` per image.
    pub logits: Vec<f32>,
}
