/* The check sequence of `bottleneck validate` (runtime/src/check.rs), written in C against
 * bottleneck.h: for each vector, encode, decode the float code, decode the int8 code, classify;
 * then two samples from seed 1234. Every output is folded into a CRC-32 (the bits of each float,
 * little-endian), as the Rust runtime's check does, so the digests can be compared. On every vector
 * it also checks the integer entry points against the float ones, and that bad calls return their
 * status. Freestanding, so that the same file runs on the host and on a Cortex-M4. */
#include "check.h"

#include <stdbool.h>
#include <string.h>

#include "bottleneck.h"

enum { MAX_PIXELS = 3 * 32 * 32, MAX_LATENT = 256, MAX_CLASSES = 64, MAX_SCRATCH = 32 * 1024 };

static uint8_t scratch[MAX_SCRATCH];
static float input[MAX_PIXELS], float_code[MAX_LATENT], code[MAX_LATENT], image[MAX_PIXELS];
static float roundtrip[MAX_PIXELS], logits[MAX_CLASSES];
static uint8_t pixels_u8[MAX_PIXELS];
static int8_t code_bytes[MAX_LATENT];
static int32_t logits_int[MAX_CLASSES];
static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static void fold(uint32_t *crc, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        for (int b = 0; b < 4; b++) *crc = crc_table[(*crc ^ (bits >> (8 * b))) & 0xff] ^ (*crc >> 8);
    }
}

static uint32_t u32_at(const uint8_t *b, size_t at) {
    return (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 | (uint32_t)b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
}

static size_t u16_at(const uint8_t *b, size_t at) { return (size_t)b[at] | (size_t)b[at + 1] << 8; }

static float f32_at(const uint8_t *b, size_t at) {
    uint32_t bits = u32_at(b, at);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* A line of text and numbers, built without stdio. */
typedef struct {
    char text[160];
    size_t len;
} Line;

static void put(Line *l, const char *s) {
    while (*s && l->len + 1 < sizeof l->text) l->text[l->len++] = *s++;
    l->text[l->len] = 0;
}

static void put_u(Line *l, uint32_t v) {
    char digits[11];
    int at = 10;
    digits[at] = 0;
    do {
        digits[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(l, &digits[at]);
}

static void put_hex(Line *l, uint32_t v) {
    char digits[11] = "0x";
    for (int i = 0; i < 8; i++) digits[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    digits[10] = 0;
    put(l, digits);
}

static int fail(void (*print)(const char *), const char *what, uint32_t vector, BnStatus status) {
    Line l = {{0}, 0};
    put(&l, "error: ");
    put(&l, what);
    put(&l, " (vector ");
    put_u(&l, vector);
    put(&l, ")");
    if (status != BN_STATUS_OK) {
        put(&l, ": ");
        put(&l, bn_status_message(status));
    }
    print(l.text);
    return 1;
}

#define CHECK(what, call)                                   \
    do {                                                    \
        BnStatus s_ = (call);                               \
        if (s_ != BN_STATUS_OK) return fail(print, what, i, s_); \
    } while (0)

int bn_check(const uint8_t *bytes, size_t model_len, const uint8_t *v, size_t vec_len, void (*print)(const char *)) {
    uint32_t i = 0;
    crc_init();
    BnModel model;
    memset(&model, 0, sizeof model);
    /* A model that was never parsed is refused, not read. */
    if (bn_model_input_len(&model) != 0) return fail(print, "an unparsed model reports an input length", i, BN_STATUS_OK);
    if (bn_model_parse(bytes, model_len - 1, &model) != BN_STATUS_LENGTH_MISMATCH)
        return fail(print, "a truncated file was not refused as truncated", i, BN_STATUS_OK);
    CHECK("bn_model_parse", bn_model_parse(bytes, model_len, &model));

    const size_t pixels = bn_model_input_len(&model), latent = bn_model_latent_len(&model);
    const size_t classes = bn_model_classes(&model);
    size_t scratch_len = 0;
    for (int e = BN_ENTRY_ENCODE; e <= BN_ENTRY_SAMPLE; e++) {
        size_t n = bn_model_scratch_len(&model, (BnEntry)e);
        if (n > scratch_len) scratch_len = n;
    }
    /* The exporter stores the model's name and, with a classifier, one name per class. */
    const uint8_t *text = NULL;
    size_t text_len = 0;
    CHECK("bn_model_name", bn_model_name(&model, &text, &text_len));
    if (text == NULL || text_len == 0) return fail(print, "the model has no name", i, BN_STATUS_OK);
    for (size_t c = 0; c <= classes; c++) {
        CHECK("bn_model_class_name", bn_model_class_name(&model, c, &text, &text_len));
        if ((c < classes) != (text_len > 0)) return fail(print, "a class name is missing or extra", i, BN_STATUS_OK);
    }
    if (pixels > MAX_PIXELS || latent > MAX_LATENT || classes > MAX_CLASSES || scratch_len > MAX_SCRATCH)
        return fail(print, "the model is larger than this check's buffers", i, BN_STATUS_OK);
    if (vec_len < 32 || memcmp(v, "BTNV", 4) != 0) return fail(print, "not a vectors file", i, BN_STATUS_OK);
    const uint32_t count = u32_at(v, 8);
    const size_t v_pixels = u16_at(v, 12) * u16_at(v, 14) * u16_at(v, 16);
    const size_t v_latent = u16_at(v, 18), v_classes = u16_at(v, 20);
    const size_t record = (2 * v_pixels + v_latent + v_classes) * 4 + 4;
    if (v_pixels != pixels || v_latent != latent || vec_len != 32 + count * record)
        return fail(print, "the vectors do not fit the model", i, BN_STATUS_OK);
    size_t channels = 0, height = 0, width = 0;
    CHECK("bn_model_input_shape", bn_model_input_shape(&model, &channels, &height, &width));
    if (channels != u16_at(v, 12) || height != u16_at(v, 14) || width != u16_at(v, 16))
        return fail(print, "the model's input shape is not the vectors'", i, BN_STATUS_OK);
    /* A classifier alone (latent 0) has no encoder, decoder or sampler: the digest folds its
       logits only, as bottleneck_runtime::check does. */
    const bool autoencoder = latent > 0;
    if (!autoencoder && bn_encode(&model, input, pixels, code, 0, scratch, scratch_len) != BN_STATUS_NO_AUTOENCODER)
        return fail(print, "a classifier alone was asked to encode and did not refuse", i, BN_STATUS_OK);
    if (autoencoder &&
        bn_encode(&model, input, pixels, code, latent, scratch, bn_model_scratch_len(&model, BN_ENTRY_ENCODE) - 1) !=
            BN_STATUS_SCRATCH_TOO_SMALL)
        return fail(print, "a short scratch buffer was not refused", i, BN_STATUS_OK);
    if (autoencoder && bn_encode(&model, NULL, pixels, code, latent, scratch, scratch_len) != BN_STATUS_NULL_POINTER)
        return fail(print, "a null image was not refused", i, BN_STATUS_OK);

    const float code_scale = bn_model_code_scale(&model), logit_scale = bn_model_logit_scale(&model);
    const bool symmetric = bn_model_input_symmetric(&model);
    uint32_t crc = 0xffffffffu, correct = 0;
    for (i = 0; i < count; i++) {
        const size_t at = 32 + i * record;
        for (size_t p = 0; p < pixels; p++) input[p] = f32_at(v, at + 4 * p);
        for (size_t k = 0; k < latent; k++) float_code[k] = f32_at(v, at + 4 * (pixels + k));
        const uint32_t label = u32_at(v, at + record - 4);

        if (autoencoder) {
            CHECK("bn_encode", bn_encode(&model, input, pixels, code, latent, scratch, scratch_len));
            fold(&crc, code, latent);
            CHECK("bn_decode", bn_decode(&model, float_code, latent, image, pixels, scratch, scratch_len));
            fold(&crc, image, pixels);
            CHECK("bn_decode", bn_decode(&model, code, latent, roundtrip, pixels, scratch, scratch_len));
            fold(&crc, roundtrip, pixels);
        }
        size_t class = 0;
        if (classes > 0) {
            CHECK("bn_classify", bn_classify(&model, input, pixels, logits, classes, scratch, scratch_len, &class));
            fold(&crc, logits, classes);
            correct += class == label;
        }

        /* The integer entry points on the same image, as 8-bit pixels. */
        for (size_t p = 0; p < pixels; p++) {
            const float x = symmetric ? (input[p] + 1.0f) * 127.5f : input[p] * 255.0f;
            pixels_u8[p] = (uint8_t)(x + 0.5f);
        }
        if (autoencoder) {
            CHECK("bn_encode_bytes",
                  bn_encode_bytes(&model, pixels_u8, pixels, code_bytes, latent, scratch, scratch_len));
            for (size_t k = 0; k < latent; k++)
                if ((float)code_bytes[k] * code_scale != code[k])
                    return fail(print, "the byte code is not the float code", i, BN_STATUS_OK);
        }
        if (classes > 0) {
            size_t class_int = 0;
            CHECK("bn_classify_bytes",
                  bn_classify_bytes(&model, pixels_u8, pixels, logits_int, classes, scratch, scratch_len, &class_int));
            if (class_int != class) return fail(print, "classify_bytes and classify disagree", i, BN_STATUS_OK);
            for (size_t j = 0; j < classes; j++)
                if ((float)logits_int[j] * logit_scale != logits[j])
                    return fail(print, "integer and float logits differ", i, BN_STATUS_OK);
        }
    }
    BnRng rng;
    CHECK("bn_rng_init", bn_rng_init(&rng, 1234));
    for (int s = 0; s < 2 && autoencoder; s++) {
        CHECK("bn_sample", bn_sample(&model, &rng, code, latent, image, pixels, scratch, scratch_len));
        fold(&crc, code, latent);
        fold(&crc, image, pixels);
    }
    Line l = {{0}, 0};
    if (classes > 0) {
        put(&l, "accuracy ");
        put_u(&l, correct);
        put(&l, "/");
        put_u(&l, count);
        print(l.text);
    }
    l.len = 0;
    put(&l, "digest ");
    put_hex(&l, crc ^ 0xffffffffu);
    put(&l, " vectors ");
    put_u(&l, count);
    print(l.text);
    return 0;
}
