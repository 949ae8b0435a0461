/* liveness.c — readiness and the writer's heartbeat; see include/liveness.h. */
#include "liveness.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "clock.h"

struct liveness {
    size_t bytes;
    unsigned n_slots;
    _Atomic int64_t beat_us;  /* the writer's last beat, CLOCK_MONOTONIC */
    _Atomic unsigned ready[]; /* per slot: the generation that became ready */
};

/* Process memory, set after fork: which slot this child fills. */
static unsigned my_slot, my_generation;

struct liveness *liveness_map(unsigned slots)
{
    size_t bytes = sizeof(struct liveness) + (slots ? slots : 1) * sizeof(_Atomic unsigned);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct liveness *l = p; /* an anonymous map starts zeroed */
    l->bytes = bytes;
    l->n_slots = slots ? slots : 1;
    return l;
}

void liveness_unmap(struct liveness *l)
{
    if (l)
        munmap(l, l->bytes);
}

void liveness_use_slot(struct liveness *l, unsigned slot, unsigned generation)
{
    (void)l;
    my_slot = slot;
    my_generation = generation;
}

void liveness_ready(struct liveness *l)
{
    if (l && my_slot < l->n_slots)
        atomic_store_explicit(&l->ready[my_slot], my_generation, memory_order_relaxed);
}

bool liveness_was_ready(const struct liveness *l, unsigned slot, unsigned generation)
{
    return l && slot < l->n_slots &&
           atomic_load_explicit(&l->ready[slot], memory_order_relaxed) == generation;
}

void liveness_beat(struct liveness *l)
{
    if (l)
        atomic_store_explicit(&l->beat_us, clock_mono_us(), memory_order_relaxed);
}

void liveness_expect_beat(struct liveness *l)
{
    liveness_beat(l);
}

int64_t liveness_silence_ms(const struct liveness *l)
{
    if (!l)
        return 0;
    return (clock_mono_us() - atomic_load_explicit(&l->beat_us, memory_order_relaxed)) / 1000;
}
