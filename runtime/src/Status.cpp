// Status codes and the per-thread last error.
#include "Internal.h"

namespace {
thread_local std::string lastError;
} // namespace

namespace vsart {
vsart_status_t fail(vsart_status_t status, std::string message) {
  lastError = std::move(message);
  return status;
}
vsart_status_t ok() {
  lastError.clear();
  return VSART_OK;
}
} // namespace vsart

extern "C" const char *vsart_status_message(vsart_status_t status) {
  switch (status) {
  case VSART_OK:
    return "ok";
  case VSART_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case VSART_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case VSART_ERROR_IO:
    return "i/o error";
  case VSART_ERROR_INVALID_FORMAT:
    return "invalid format";
  case VSART_ERROR_UNSUPPORTED_VERSION:
    return "unsupported format version";
  case VSART_ERROR_NOT_FOUND:
    return "not found";
  case VSART_ERROR_COMM:
    return "communication error";
  }
  return "unknown status";
}

extern "C" const char *vsart_last_error(void) { return lastError.c_str(); }
