// Process plumbing: graceful stops on signals, thread names, returning freed memory.
#define _GNU_SOURCE
#include "lw_process.h"
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

void lw_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

/* SIGINT and SIGTERM ask for a graceful stop: a flag the readers look at, without SA_RESTART so
   that a blocking wait returns. A second signal of either kind ends the process at once. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

void lw_install_stop_handlers(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigset_t both;
    sigemptyset(&both);
    int sigs[] = { SIGINT, SIGTERM };
    for (int i = 0; i < 2; i++) {
        /* A signal the parent set to be ignored (a background job's SIGINT) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&both, sigs[i]);
    }
    /* A mask inherited from the parent would keep them pending for ever; threads started
       later inherit this one. */
    pthread_sigmask(SIG_UNBLOCK, &both, NULL);
}

int lw_stop_signal(void) { return stop_signal; }

void lw_request_stop(int reason) { if (!stop_signal) stop_signal = reason; }

void lw_release_free_memory(void) { malloc_trim(0); }
