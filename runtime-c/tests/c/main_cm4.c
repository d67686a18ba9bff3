/* The C check on a Cortex-M4 (QEMU mps2-an386), linked with the thumbv7em `libbottleneck_c.a`:
 * a vector table, a reset handler that sets up RAM, semihosting for output and exit, and the model
 * and vectors embedded by data.S. Built by `cargo xtask firmware` with arm-none-eabi-gcc. */
#include <stdint.h>
#include <string.h>

#include "check.h"

extern const uint8_t bn_model_start[], bn_model_end[], bn_vectors_start[], bn_vectors_end[];
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _stack_top[];

/* Semihosting: operation in r0, argument in r1, `bkpt 0xab`. */
static uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* The host's standard output: SYS_OPEN of ":tt" for writing (SYS_WRITE0 would go to QEMU's
 * debug console, its standard error). */
static uint32_t host_stdout(void) {
    static uint32_t handle = UINT32_MAX;
    if (handle == UINT32_MAX) {
        const uint32_t args[3] = {(uint32_t)(uintptr_t)":tt", 4 /* "w" */, 3 /* strlen(":tt") */};
        handle = semihost(0x01, args); /* SYS_OPEN */
    }
    return handle;
}

static void print(const char *line) {
    const uint32_t args[3] = {host_stdout(), (uint32_t)(uintptr_t)line, (uint32_t)strlen(line)};
    semihost(0x05, args); /* SYS_WRITE */
    const uint32_t newline[3] = {host_stdout(), (uint32_t)(uintptr_t)"\n", 1};
    semihost(0x05, newline);
}

static void stop(int code) {
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026); the exit code needs the extended
     * form, so failures are reported as ADP_Stopped_RunTimeErrorUnknown (0x20023). */
    semihost(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

void reset_handler(void) {
    /* Enable the FPU (CP10, CP11 full access): the library is built for eabihf. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
    memcpy(_sdata, _sidata, (size_t)((char *)_edata - (char *)_sdata));
    memset(_sbss, 0, (size_t)((char *)_ebss - (char *)_sbss));
    int rc = bn_check(bn_model_start, (size_t)(bn_model_end - bn_model_start), bn_vectors_start,
                      (size_t)(bn_vectors_end - bn_vectors_start), print);
    stop(rc);
}

static void fault_handler(void) {
    print("error: fault");
    stop(1);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    _stack_top, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
};
