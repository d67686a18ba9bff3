//! Laying out a `.bnq` file: header, layer table, metadata, latent statistics, then each layer's
//! tables, each at an offset aligned as format version 2 requires.

use bottleneck_runtime::format::{
    HEADER_LEN, Header, LAYER_LEN, LayerRecord, META_CLASS_NAMES, META_ENTRY_HEADER, META_INPUT_RANGE, META_NAME,
    TABLE_ALIGN, WEIGHT_ALIGN, crc32,
};

/// What the metadata section says about the model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata {
    pub name: Option<String>,
    /// One per class of the classifier (stored only when the file has one).
    pub class_names: Vec<String>,
    /// Real values of the darkest and brightest input.
    pub input_range: Option<(f32, f32)>,
}

impl Metadata {
    /// The section's bytes: the entries' length, then each entry (tag, length, value, zero
    /// padding to whole words). Empty when there is nothing to say.
    fn to_bytes(&self) -> Vec<u8> {
        let mut entries = Vec::new();
        let mut put = |tag: u16, value: &[u8]| {
            // Values longer than a u16 length cannot be stored; names never come close.
            let Ok(len) = u16::try_from(value.len()) else { return };
            debug_assert_eq!(META_ENTRY_HEADER, 4);
            entries.extend_from_slice(&tag.to_le_bytes());
            entries.extend_from_slice(&len.to_le_bytes());
            entries.extend_from_slice(value);
            entries.resize((entries.len()).next_multiple_of(TABLE_ALIGN), 0);
        };
        if let Some(name) = self.name.as_deref().filter(|n| !n.is_empty()) {
            put(META_NAME, name.as_bytes());
        }
        if !self.class_names.is_empty() {
            let names: String = self.class_names.iter().map(|n| format!("{}\n", n.replace('\n', " "))).collect();
            put(META_CLASS_NAMES, names.as_bytes());
        }
        if let Some((lo, hi)) = self.input_range {
            put(META_INPUT_RANGE, &[lo.to_le_bytes(), hi.to_le_bytes()].concat());
        }
        if entries.is_empty() {
            return entries;
        }
        let mut out = (entries.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&entries);
        out
    }
}

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
    pub fn finish(self, mut header: Header, stats: Option<(Vec<f32>, Vec<f32>)>, metadata: &Metadata) -> Vec<u8> {
        let table_at = HEADER_LEN;
        // Everything after the layer table is one blob: the metadata, the statistics, then the
        // tables, each at an aligned offset (the header and records are whole words).
        let data_at = table_at + self.layers.len() * LAYER_LEN;
        let mut blob = Vec::new();
        let mut put = |bytes: &[u8], align: usize| -> u32 {
            if bytes.is_empty() {
                return 0;
            }
            blob.resize((data_at + blob.len()).next_multiple_of(align) - data_at, 0);
            let at = data_at + blob.len();
            blob.extend_from_slice(bytes);
            at as u32
        };
        header.layer_table = table_at as u32;
        header.metadata = put(&metadata.to_bytes(), TABLE_ALIGN);
        if let Some((mean, std)) = stats {
            let bytes: Vec<u8> = mean.iter().chain(&std).flat_map(|v| v.to_le_bytes()).collect();
            header.latent_stats = put(&bytes, TABLE_ALIGN);
        }
        let mut records = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let Some(mut rec) = layer.record else { continue };
            rec.weights = put(&layer.weights, WEIGHT_ALIGN);
            let bias: Vec<u8> = layer.bias.iter().flat_map(|b| b.to_le_bytes()).collect();
            rec.bias = put(&bias, TABLE_ALIGN);
            let requant: Vec<u8> =
                layer.requant.iter().flat_map(|(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect();
            rec.requant = put(&requant, TABLE_ALIGN);
            rec.lut = put(&layer.lut, TABLE_ALIGN);
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
