// A small fixed thread pool (std::thread) behind vsart::parallelFor.
#include "Internal.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace {

thread_local bool inParallelRegion = false;

int defaultThreads() {
  if (const char *env = std::getenv("VSART_NUM_THREADS")) {
    char *end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0)
      return static_cast<int>(std::min(n, 1024L));
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

struct Job {
  const std::function<void(int64_t, int64_t)> *fn;
  int64_t n, chunk, numChunks;
  std::atomic<int64_t> next{0};
  int active = 0; // workers inside this job, guarded by the pool mutex
};

class ThreadPool {
public:
  static ThreadPool &get() {
    static ThreadPool pool;
    return pool;
  }
  ~ThreadPool() { stopWorkers(); }

  int numThreads() {
    std::lock_guard<std::mutex> lock(callMutex);
    return threads;
  }
  void setNumThreads(int n) {
    std::lock_guard<std::mutex> lock(callMutex);
    stopWorkers();
    startWorkers(n > 0 ? n : defaultThreads());
  }

  void run(int64_t n, int64_t grain,
           const std::function<void(int64_t, int64_t)> &fn) {
    if (n <= 0)
      return;
    grain = std::max<int64_t>(grain, 1);
    std::unique_lock<std::mutex> callLock(callMutex, std::defer_lock);
    if (inParallelRegion || n <= grain || !callLock.try_lock() ||
        threads == 1) {
      // Nested, tiny, or another thread holds the pool: run inline.
      fn(0, n);
      return;
    }
    Job job;
    job.fn = &fn;
    job.n = n;
    int64_t maxChunks = static_cast<int64_t>(threads) * 4;
    job.chunk = std::max(grain, (n + maxChunks - 1) / maxChunks);
    job.numChunks = (n + job.chunk - 1) / job.chunk;
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = &job;
      ++generation;
    }
    wake.notify_all();
    work(job);
    std::unique_lock<std::mutex> lock(mutex);
    current = nullptr;
    done.wait(lock, [&] { return job.active == 0; });
  }

private:
  ThreadPool() { startWorkers(defaultThreads()); }

  static void work(Job &job) {
    bool saved = inParallelRegion;
    inParallelRegion = true;
    for (;;) {
      int64_t c = job.next.fetch_add(1);
      if (c >= job.numChunks)
        break;
      int64_t begin = c * job.chunk;
      (*job.fn)(begin, std::min(job.n, begin + job.chunk));
    }
    inParallelRegion = saved;
  }

  void workerLoop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] {
        return stopping || (current && generation != seen);
      });
      if (stopping)
        return;
      seen = generation;
      Job *job = current;
      ++job->active;
      lock.unlock();
      work(*job);
      lock.lock();
      if (--job->active == 0)
        done.notify_all();
    }
  }

  void startWorkers(int n) {
    threads = n;
    stopping = false;
    for (int i = 1; i < n; ++i)
      workers.emplace_back([this] { workerLoop(); });
  }
  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
    workers.clear();
  }

  std::mutex callMutex; // one parallel region at a time
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  Job *current = nullptr;
  uint64_t generation = 0;
  bool stopping = false;
  int threads = 1;
};

} // namespace

namespace vsart {
void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn) {
  ThreadPool::get().run(n, grain, fn);
}
} // namespace vsart

extern "C" int32_t vsart_get_num_threads(void) {
  return ThreadPool::get().numThreads();
}
extern "C" void vsart_set_num_threads(int32_t n) {
  ThreadPool::get().setNumThreads(n);
}

extern "C" void vsart_parallel_for(int64_t n, int64_t grain,
                                   void (*fn)(void *, int64_t, int64_t),
                                   void *ctx) {
  vsart::parallelFor(n, grain,
                     [&](int64_t begin, int64_t end) { fn(ctx, begin, end); });
}
