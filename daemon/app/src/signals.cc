#include "signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>

namespace teamhealth::app {

SignalWatcher::SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& reload,
                             logging::Logger logger)
    : stop_(stop), reload_(reload) {
  thread_ = std::thread([this, logger] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR1) return;  // our own wake-up at shutdown
      if (sig == SIGHUP) {
        logger->info("SIGHUP received; reloading the directory after the batch in flight");
        reload_.store(true);
        continue;
      }
      logger->info("Stopping after the batch in flight. signal={}", strsignal(sig));
      stop_.store(true);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}
}  // namespace teamhealth::app
