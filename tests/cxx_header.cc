// SPDX-License-Identifier: MIT
// cxx_header.cc - prun.h from C++: extern "C", the sized macros, and
// designated initializers (C++20), which must follow declaration order.
#include <prun.h>

#include <cstdio>
#include <cstring>

int main()
{
    char echo[] = "echo", word[] = "c++";
    char *argv[] = {echo, word, nullptr};  // argv needs char *, not string literals
    prun_opts opts = {.stdout_io = PRUN_PIPE, .timeout_ms = 10000};
    prun_result res;
    int err = prun_run(argv, &opts, &res);
    bool ok = err == 0 && res.returncode == 0 && std::strcmp(res.out.data, "c++\n") == 0;
    prun_result_free(&res);
    std::printf("%s: prun.h compiles and runs as C++ (libprun %s)\n", ok ? "PASS" : "FAIL",
                prun_version());
    return ok ? 0 : 1;
}
