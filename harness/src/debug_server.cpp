// debug::serve: the task dumps over HTTP (cpp-httplib), for programs on
// ThreadExecutor. Built only with cpp-httplib (the optional chanfuzz::debug).
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chanfuzz/debug_server.hpp"
#include "chanfuzz/report.hpp"

namespace chanfuzz::debug {

namespace {

// A task list as text (the default, or ?format=text) or ?format=json.
void answer(const httplib::Request& request, httplib::Response& response, std::string (*text)(),
            std::vector<TaskInfo> (*tasks)()) {
  if (request.has_param("format")) {
    const std::string format = request.get_param_value("format");
    if (format == "json") {
      response.set_content(tasks_json(tasks()) + "\n", "application/json");
      return;
    }
    if (format != "text") {
      response.status = 400;
      response.set_content("chanfuzz: format: '" + format + "' is not text or json\n",
                           "text/plain");
      return;
    }
  }
  response.set_content(text(), "text/plain; charset=utf-8");
}

class HttpServer final : public Server {
 public:
  HttpServer(int port, const ServeOptions& options) {
    server_.Get("/debug/tasks", [](const httplib::Request& request, httplib::Response& response) {
      answer(request, response, dump_text, running_tasks);
    });
    server_.Get("/debug/tasks/count", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(std::to_string(running_task_count()) + "\n", "text/plain");
    });
    server_.Get("/debug/leaks", [](const httplib::Request& request, httplib::Response& response) {
      answer(request, response, leaks_text, running_leaks);
    });
    server_.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(
          "chanfuzz debug endpoints:\n  /debug/tasks\n  /debug/tasks?format=json\n"
          "  /debug/tasks/count\n  /debug/leaks\n  /debug/leaks?format=json\n",
          "text/plain");
    });
    // SO_REUSEADDR only: cpp-httplib also sets SO_REUSEPORT by default,
    // which lets a second server silently share a port that is in use.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    if (port == 0) {
      port_ = server_.bind_to_any_port(options.address.c_str());
    } else if (server_.bind_to_port(options.address.c_str(), port)) {
      port_ = port;
    }
    if (port_ <= 0) {
      throw std::runtime_error("chanfuzz::debug::serve: cannot listen on " + options.address + ":" +
                               std::to_string(port));
    }
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      ended_ = true;
    });
    // stop() only stops a server that is running: wait for the accept loop
    // (the socket already listens, so no connection is lost meanwhile).
    while (!server_.is_running() && !ended_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~HttpServer() override { stop(); }
  int port() const override { return port_; }
  void stop() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::atomic<bool> ended_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Server> serve(int port, ServeOptions options) {
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("chanfuzz::debug::serve: port " + std::to_string(port) +
                                " is not 0-65535");
  }
  return std::make_unique<HttpServer>(port, options);
}

}  // namespace chanfuzz::debug
