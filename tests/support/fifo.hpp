// FIFOs for the "files that are not files" tests (docs/reliability.md §2). A reader that
// opens a FIFO without O_NONBLOCK waits for a writer forever; `bounded` runs the code under
// test on a thread and, if it has not finished after a few seconds, plays the writer (opens
// and closes the FIFO) so the blocked open(2) returns and the test fails instead of hanging.
#pragma once

#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace vramplan::test {

// Creates a FIFO at `path`; false (and a test failure) if mkfifo(3) fails.
inline bool make_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0) {
    ADD_FAILURE() << "mkfifo " << path << " failed";
    return false;
  }
  return true;
}

// Runs `f` (which may open `fifo`), rethrowing what it throws. Returns false, with a test
// failure, when `f` was still blocked after `limit`.
template <typename F>
bool bounded(const std::string& fifo, F&& f,
             std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  std::packaged_task<void()> task(std::forward<F>(f));
  std::future<void> done = task.get_future();
  std::thread worker(std::move(task));
  bool in_time = done.wait_for(limit) == std::future_status::ready;
  while (!in_time) {
    // Unblock the reader: an open for writing pairs with its open for reading.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    if (done.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) break;
  }
  worker.join();
  if (!in_time) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo << " for more than " << limit.count() << " ms";
    return false;
  }
  done.get();  // rethrows
  return true;
}

}  // namespace vramplan::test
