/* linkcut.c — see linkcut.h. */
#include <sys/socket.h>

#include "runtime/base/linkcut.h"

void linkcut_init(struct linkcut *c)
{
    pthread_mutex_init(&c->mu, NULL);
    c->n = 0;
    atomic_store(&c->fired, 0);
}

void linkcut_destroy(struct linkcut *c)
{
    pthread_mutex_destroy(&c->mu);
}

void linkcut_add(struct linkcut *c, int fd)
{
    if (!c || fd < 0) return;
    pthread_mutex_lock(&c->mu);
    if (c->n < LINKCUT_MAX) c->fds[c->n++] = fd;
    if (atomic_load(&c->fired)) (void)shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&c->mu);
}

void linkcut_remove(struct linkcut *c, int fd)
{
    if (!c || fd < 0) return;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->n; i++)
        if (c->fds[i] == fd) {
            c->fds[i] = c->fds[--c->n];
            break;
        }
    pthread_mutex_unlock(&c->mu);
}

void linkcut_fire(struct linkcut *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->fired, 1);
    for (int i = 0; i < c->n; i++) (void)shutdown(c->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&c->mu);
}

void linkcut_rearm(struct linkcut *c)
{
    if (c) atomic_store(&c->fired, 0);
}

int linkcut_busy(struct linkcut *c)
{
    if (!c) return 0;
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}
