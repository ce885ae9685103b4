#include "dnspc/runtime/worker_thread.h"

#include "worker.h"

namespace dnspc::runtime {

WorkerThread::WorkerThread(WorkerConfig config) : worker_(std::make_unique<Worker>(std::move(config))) {}
WorkerThread::~WorkerThread() = default;

bool WorkerThread::open(std::string& error) { return worker_->open(error); }
void WorkerThread::start() { worker_->start(); }
void WorkerThread::drain() { worker_->drain(); }
void WorkerThread::stop_now() { worker_->stop_now(); }
void WorkerThread::join() { worker_->join(); }
bool WorkerThread::done() const { return worker_->done(); }
const std::vector<uint16_t>& WorkerThread::backend_ports(uint32_t server) const {
  return worker_->backend_ports(server);
}
void WorkerThread::post(std::function<void()> job) { worker_->post(std::move(job)); }
bool WorkerThread::prepare(const ActivePolicy& next, std::string& error) { return worker_->prepare(next, error); }
void WorkerThread::change_listeners(const std::vector<NetAddress>& added, const std::vector<int>& fds,
                                    const std::vector<NetAddress>& removed, uint64_t udp_timeout_ns) {
  worker_->change_listeners(added, fds, removed, udp_timeout_ns);
}
const ActivePolicy* WorkerThread::acknowledged() const { return worker_->acknowledged(); }
void WorkerThread::set_swap_notify(uv_async_t* notify) { worker_->set_swap_notify(notify); }
void WorkerThread::wake() { worker_->wake(); }

}  // namespace dnspc::runtime
