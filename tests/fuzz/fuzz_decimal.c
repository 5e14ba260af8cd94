/* fuzz_decimal: the decimal parser; what it accepts must format and parse back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64], out[32];
    struct app_err err;
    int64_t v, w;
    int scale;

    if (size == 0 || size >= sizeof(s))
        return 0;
    scale = data[0] % 4;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (dec_parse(s, scale, true, &v, "x", &err) == 0) {
        dec_format(v, scale, out, sizeof(out));
        if (dec_parse(out, scale, true, &w, "x", &err) != 0 || w != v)
            abort();
    }
    return 0;
}
