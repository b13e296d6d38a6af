/* SPDX-License-Identifier: MIT */
/* buf.c - byte buffers: the prun_buf handed to callers, and the growing
 * buffers output is collected in. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { FIRST_CAPACITY = 64 * 1024 };

void prun__growbuf_compact(struct prun_growbuf *g)
{
    if (!g->head)
        return;
    g->buf.len -= g->head;
    memmove(g->buf.data, g->buf.data + g->head, g->buf.len + 1);  /* the NUL too */
    g->head = 0;
}

int prun__growbuf_reserve(struct prun_growbuf *g, size_t room)
{
    if (g->capacity - g->buf.len > room)
        return 0;
    prun__growbuf_compact(g);  /* before growing, the room handed-out bytes leave */
    size_t len = g->buf.len;
    if (g->capacity - len > room)
        return 0;
    if (room >= SIZE_MAX / 2 - len)
        return -ENOMEM;
    size_t capacity = g->capacity ? g->capacity : FIRST_CAPACITY;
    while (capacity - len <= room)
        capacity *= 2;
    char *data = realloc(g->buf.data, capacity);
    if (!data)
        return -ENOMEM;
    data[len] = '\0';  /* an EOF straight away leaves it a valid "" */
    g->buf.data = data;
    g->capacity = capacity;
    return 0;
}

int prun__growbuf_take(struct prun_growbuf *g, prun_buf *dst, int want_empty)
{
    prun__growbuf_compact(g);
    prun_buf b = g->buf;
    *g = (struct prun_growbuf){{NULL, 0}, 0, 0};
    if (!dst) {
        free(b.data);
        return 0;
    }
    if (!b.data && want_empty && !(b.data = calloc(1, 1)))
        return -ENOMEM;
    *dst = b;
    return 0;
}

void prun__growbuf_free(struct prun_growbuf *g)
{
    prun_buf_free(&g->buf);
    g->capacity = g->head = 0;
}

void prun_buf_free(prun_buf *b)
{
    if (!b)
        return;
    char *data = b->data;
    *b = (prun_buf){NULL, 0};
    free(data);  /* last, a jump: freeing each line of prun_readline is hot */
}
