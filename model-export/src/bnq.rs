//! Laying out a `.bnq` file: header, layer table, latent statistics, then each layer's tables.

use bottleneck_runtime::format::{HEADER_LEN, Header, LAYER_LEN, LayerRecord, crc32};

/// One layer's record and the tables it points to (offsets are filled in by [`Assembler::finish`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerData {
    pub record: Option<LayerRecord>,
    /// i8 weights as bytes.
    pub weights: Vec<u8>,
    pub bias: Vec<i32>,
    /// (multiplier, shift) per output channel.
    pub requant: Vec<(i32, i32)>,
    /// 256-byte lookup table.
    pub lut: Vec<u8>,
}

/// Collects layers, then writes the file.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    layers: Vec<LayerData>,
}

impl Assembler {
    pub fn push(&mut self, layer: LayerData) {
        self.layers.push(layer);
    }

    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// The complete file: `header`'s lengths, offsets and checksum are filled in here.
    pub fn finish(self, mut header: Header, stats: Option<(Vec<f32>, Vec<f32>)>) -> Vec<u8> {
        let table_at = HEADER_LEN;
        // Everything after the layer table is one blob: the statistics first, then the tables.
        let data_at = table_at + self.layers.len() * LAYER_LEN;
        let mut blob = Vec::new();
        header.layer_table = table_at as u32;
        if let Some((mean, std)) = stats {
            header.latent_stats = data_at as u32;
            for v in mean.iter().chain(&std) {
                blob.extend_from_slice(&v.to_le_bytes());
            }
        }
        let mut records = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let Some(mut rec) = layer.record else { continue };
            let mut put = |bytes: &[u8]| -> u32 {
                if bytes.is_empty() {
                    return 0;
                }
                let at = data_at + blob.len();
                blob.extend_from_slice(bytes);
                at as u32
            };
            rec.weights = put(&layer.weights);
            let bias: Vec<u8> = layer.bias.iter().flat_map(|b| b.to_le_bytes()).collect();
            rec.bias = put(&bias);
            let requant: Vec<u8> =
                layer.requant.iter().flat_map(|(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect();
            rec.requant = put(&requant);
            rec.lut = put(&layer.lut);
            records.push(rec);
        }
        let total = data_at + blob.len();
        header.file_len = total as u32;
        let mut out = vec![0u8; total];
        for (i, rec) in records.iter().enumerate() {
            let mut buf = [0u8; LAYER_LEN];
            rec.write(&mut buf);
            let at = table_at + i * LAYER_LEN;
            out[at..at + LAYER_LEN].copy_from_slice(&buf);
        }
        out[data_at..].copy_from_slice(&blob);
        let mut hbuf = [0u8; HEADER_LEN];
        header.write(&mut hbuf);
        out[..HEADER_LEN].copy_from_slice(&hbuf);
        // The checksum covers everything after its own field; write it last.
        header.crc32 = crc32(&out[16..]);
        header.write(&mut hbuf);
        out[..HEADER_LEN].copy_from_slice(&hbuf);
        out
    }
}
