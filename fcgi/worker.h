/* worker: one process of the pool, accepting and serving FastCGI requests until SIGTERM. */
#ifndef STOCK_FCGI_WORKER_H
#define STOCK_FCGI_WORKER_H

#include "core/config.h"

/*
 * The body of a worker, run in the child right after the pool forks it: serves requests
 * accepted on listen_fd (a non-blocking listening socket, shared by every worker) with its own
 * PostgreSQL and Redis connections, until SIGTERM/SIGINT or the death of the master; then serves
 * what is already queued on the socket and closes its copy of it. cf is only read. Returns the
 * process's exit status: 0 after a stop, 1 when the worker cannot start.
 */
int worker_main(const struct config *cf, int listen_fd);

#endif
