/* SPDX-License-Identifier: MIT */
/* tiny-exit.c - the smallest child there is: no libc, no dynamic loader,
 * no stack use; _start makes the exit_group system call with status 0.
 * Built with -nostdlib -static, so an exec of it costs the kernel's
 * exec and exit and nothing of the program's own: what the spawn-tiny
 * and spawn-fds cases measure is the spawner. */

void _start(void) __attribute__((noreturn));

void _start(void)
{
#if defined(__x86_64__)
    __asm__ volatile("syscall" : : "a"(231L /* exit_group */), "D"(0L) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = 94; /* exit_group */
    register long x0 __asm__("x0") = 0;
    __asm__ volatile("svc #0" : : "r"(x8), "r"(x0) : "memory");
#else
#error "tiny-exit.c: no exit_group for this architecture (x86_64 and aarch64 only)"
#endif
    __builtin_unreachable();
}
