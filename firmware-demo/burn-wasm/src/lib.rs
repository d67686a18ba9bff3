//! The seed-002 conv autoencoder (encoder, decoder) and the classifier's MLP head, in burn with the
//! flex backend, behind the same kind of raw exports as `firmware-demo/wasm`: a size reference
//! for the browser. Neither module embeds weights: both load them at run time, this one from
//! burn's own record bytes (a run's `model.bpk` format).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::tensor::activation::{relu, sigmoid};

#[derive(Module, Debug)]
struct Net {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    efc1: Linear,
    efc2: Linear,
    dfc1: Linear,
    dfc2: Linear,
    deconv1: ConvTranspose2d,
    deconv2: ConvTranspose2d,
    deconv3: ConvTranspose2d,
    h1: Linear,
    h2: Linear,
    h3: Linear,
}

fn net(device: &Device) -> Net {
    let conv = |i, o, k, p| {
        Conv2dConfig::new([i, o], [k, k])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .init(device)
    };
    let deconv =
        |i, o, k, p| ConvTranspose2dConfig::new([i, o], [k, k]).with_stride([2, 2]).with_padding([p, p]).init(device);
    let lin = |i, o| LinearConfig::new(i, o).init(device);
    Net {
        conv1: conv(1, 8, 4, 1),
        conv2: conv(8, 16, 4, 1),
        conv3: conv(16, 32, 3, 0),
        efc1: lin(288, 64),
        efc2: lin(64, 16),
        dfc1: lin(16, 64),
        dfc2: lin(64, 288),
        deconv1: deconv(32, 16, 3, 0),
        deconv2: deconv(16, 8, 4, 1),
        deconv3: deconv(8, 1, 4, 1),
        h1: lin(16, 64),
        h2: lin(64, 64),
        h3: lin(64, 10),
    }
}

impl Net {
    fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        let x = x.reshape([1, 1, 28, 28]);
        let x = relu(self.conv1.forward(x));
        let x = relu(self.conv2.forward(x));
        let x = self.conv3.forward(x).reshape([1, 288]);
        self.efc2.forward(relu(self.efc1.forward(x)))
    }

    fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        let x = relu(self.dfc2.forward(relu(self.dfc1.forward(z)))).reshape([1, 32, 3, 3]);
        let x = relu(self.deconv1.forward(x));
        let x = relu(self.deconv2.forward(x));
        sigmoid(self.deconv3.forward(x)).reshape([1, 784])
    }

    fn classify(&self, z: Tensor<2>) -> Tensor<2> {
        self.h3.forward(relu(self.h2.forward(relu(self.h1.forward(z)))))
    }
}

fn run(record: &[u8], image: &[f32; 784], out: &mut [f32; 784 + 16 + 10]) -> bool {
    let device = Device::flex();
    let mut model = net(&device);
    if !record.is_empty() {
        let Ok(r) = ModuleRecord::from_bytes(Bytes::from_bytes_vec(record.to_vec())) else { return false };
        let Ok(m) = model.try_load_record(r) else { return false };
        model = m;
    }
    let x = Tensor::<2>::from_data(TensorData::new(image.to_vec(), [1, 784]), &device);
    let z = model.encode(x);
    let y = model.decode(z.clone());
    let l = model.classify(z.clone());
    let parts = [y, z, l].map(|t| t.into_data().to_vec::<f32>().unwrap_or_default());
    for (o, v) in out.iter_mut().zip(parts.iter().flatten()) {
        *o = *v;
    }
    true
}

static mut IMAGE: [f32; 784] = [0.0; 784];
static mut OUT: [f32; 784 + 16 + 10] = [0.0; 784 + 16 + 10];
static mut RECORD: Vec<u8> = Vec::new();

/// Runs encode, decode and classify on the image written at `image_ptr()`, with the weights
/// written at `record_ptr(len)` (random ones when none were given); 0 when they do not load.
#[unsafe(no_mangle)]
pub extern "C" fn forward() -> u32 {
    // SAFETY: a wasm module is single-threaded and these statics are only touched by the exports.
    #[allow(static_mut_refs)]
    unsafe {
        u32::from(run(&RECORD, &IMAGE, &mut OUT))
    }
}

/// Where JavaScript writes `len` bytes of a burn record.
#[unsafe(no_mangle)]
pub extern "C" fn record_ptr(len: usize) -> *mut u8 {
    // SAFETY: as in `forward`.
    #[allow(static_mut_refs)]
    unsafe {
        RECORD.resize(len, 0);
        RECORD.as_mut_ptr()
    }
}

/// Where JavaScript writes the 784 input pixels.
#[unsafe(no_mangle)]
pub extern "C" fn image_ptr() -> *mut f32 {
    &raw mut IMAGE as *mut f32
}

/// Where `forward` leaves the reconstruction (784 values), the code (16) and the logits (10).
#[unsafe(no_mangle)]
pub extern "C" fn out_ptr() -> *const f32 {
    &raw const OUT as *const f32
}
