/* The model and the vectors, embedded as they are (paths from the compiler's command line). */
    .section .rodata.bn_data, "a"
    .balign 4
    .global bn_model_start, bn_model_end, bn_vectors_start, bn_vectors_end
bn_model_start:
    .incbin MODEL_PATH
bn_model_end:
    .balign 4
bn_vectors_start:
    .incbin VECTORS_PATH
bn_vectors_end:

