/* pool: the master process, which forks the workers, replaces them and drains them. */
#ifndef STOCK_FCGI_POOL_H
#define STOCK_FCGI_POOL_H

#include "core/config.h"
#include "listen.h"

/*
 * Runs the pool master on l (listen_open) until SIGTERM or SIGINT: forks cf->workers workers
 * (worker_main) and then only handles signals. SIGCHLD respawns a worker that died; SIGHUP
 * replaces the workers one at a time; SIGTERM/SIGINT stop new connections (listen_stop), drain
 * every worker and return. Needs the shared memory mapped (shared_create_for_pool). cf and l
 * must outlive the call; l is closed on return. Returns the exit status of the master: 0 after
 * a drain, 1 when the pool cannot start.
 */
int pool_run(const struct config *cf, struct listener *l);

#endif
