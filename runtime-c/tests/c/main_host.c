/* The C check on a host: `check MODEL.bnq VECTORS.bin`. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void print(const char *line) { puts(line); }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.bnq VECTORS.bin\n", argv[0]);
        return 2;
    }
    size_t model_len = 0, vec_len = 0;
    unsigned char *model = read_file(argv[1], &model_len), *vectors = read_file(argv[2], &vec_len);
    if (!model || !vectors) {
        fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    return bn_check(model, model_len, vectors, vec_len, print);
}
