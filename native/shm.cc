// torchbridge_shm: POSIX shared memory segments exposed to JS as external ArrayBuffers.
//
// See DESIGN.md §4. A segment's mapping is owned by exactly one ArrayBuffer and is unmapped
// only by that ArrayBuffer's finalizer, so no JS view can ever outlive its mapping. There is
// deliberately no explicit unmap.
//
//   create(name, byteLength) -> ArrayBuffer   shm_open(O_CREAT|O_EXCL|O_RDWR, 0600) + size + mmap
//   open(name, byteLength)   -> ArrayBuffer   shm_open(O_RDWR), check size, mmap
//   unlink(name)             -> boolean       shm_unlink; false when the name does not exist
//
// Errors from system calls are JS Errors with code (errno name, e.g. 'EEXIST'), errno
// (negative, as in Node's own system errors), syscall and path (the segment name).

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// JS numbers are exact only up to 2^53 - 1.
constexpr double kMaxSafeInteger = 9007199254740991.0;
// POSIX: "/" followed by at most NAME_MAX (255) characters, no further "/".
constexpr size_t kMaxNameChars = 255;

const char* ErrnoName(int err) {
  switch (err) {
#define TB_ERRNO_CASE(e) \
  case e:                \
    return #e;
    TB_ERRNO_CASE(EACCES)
    TB_ERRNO_CASE(EAGAIN)
    TB_ERRNO_CASE(EBADF)
    TB_ERRNO_CASE(EBUSY)
    TB_ERRNO_CASE(EEXIST)
    TB_ERRNO_CASE(EFAULT)
    TB_ERRNO_CASE(EFBIG)
    TB_ERRNO_CASE(EINTR)
    TB_ERRNO_CASE(EINVAL)
    TB_ERRNO_CASE(EIO)
    TB_ERRNO_CASE(EISDIR)
    TB_ERRNO_CASE(ELOOP)
    TB_ERRNO_CASE(EMFILE)
    TB_ERRNO_CASE(ENAMETOOLONG)
    TB_ERRNO_CASE(ENFILE)
    TB_ERRNO_CASE(ENODEV)
    TB_ERRNO_CASE(ENOENT)
    TB_ERRNO_CASE(ENOMEM)
    TB_ERRNO_CASE(ENOSPC)
    TB_ERRNO_CASE(ENOSYS)
    TB_ERRNO_CASE(ENOTDIR)
    TB_ERRNO_CASE(ENXIO)
    TB_ERRNO_CASE(EOPNOTSUPP)
    TB_ERRNO_CASE(EOVERFLOW)
    TB_ERRNO_CASE(EPERM)
    TB_ERRNO_CASE(EROFS)
    TB_ERRNO_CASE(ETXTBSY)
#undef TB_ERRNO_CASE
    default:
      return "UNKNOWN";
  }
}

// Throws `<syscall> failed for shared memory segment "<name>"<detail>: <strerror> (<ERRNO>)`.
void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& name,
                const std::string& detail = std::string()) {
  std::string message = std::string(syscall) + " failed for shared memory segment \"" + name +
                        "\"" + detail + ": " + std::strerror(err) + " (" + ErrnoName(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, name));
  error.ThrowAsJavaScriptException();
}

void ThrowArg(Napi::Env env, bool range, const char* code, const std::string& message) {
  Napi::Error error = range ? Napi::Error(Napi::RangeError::New(env, message))
                            : Napi::Error(Napi::TypeError::New(env, message));
  error.Set("code", Napi::String::New(env, code));
  error.ThrowAsJavaScriptException();
}

bool GetName(const Napi::CallbackInfo& info, const char* fn, std::string* out) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowArg(env, false, "ERR_INVALID_ARG_TYPE",
             std::string("shm.") + fn + ": name must be a string like \"/tb-1234\"");
    return false;
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const bool ok = name.size() >= 2 && name.size() <= kMaxNameChars + 1 && name[0] == '/' &&
                  name.find('/', 1) == std::string::npos &&
                  name.find('\0') == std::string::npos && name != "/." && name != "/..";
  if (!ok) {
    ThrowArg(env, false, "ERR_INVALID_ARG_VALUE",
             std::string("shm.") + fn + ": invalid shared memory segment name \"" + name +
                 "\": it must be \"/\" followed by 1 to 255 characters without \"/\"");
    return false;
  }
  *out = std::move(name);
  return true;
}

bool GetByteLength(const Napi::CallbackInfo& info, const char* fn, const std::string& name,
                   size_t* out) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) {
    ThrowArg(env, false, "ERR_INVALID_ARG_TYPE",
             std::string("shm.") + fn + "(\"" + name + "\"): byteLength must be a number");
    return false;
  }
  const double value = info[1].As<Napi::Number>().DoubleValue();
  if (value == 0) {
    ThrowArg(env, true, "ERR_OUT_OF_RANGE",
             std::string("shm.") + fn + "(\"" + name +
                 "\"): byteLength must be > 0; empty data is sent inline, not through shared "
                 "memory");
    return false;
  }
  // Written so that NaN fails too.
  if (!(value > 0 && value <= kMaxSafeInteger && value == static_cast<double>(
                                                                 static_cast<uint64_t>(value)))) {
    ThrowArg(env, true, "ERR_OUT_OF_RANGE",
             std::string("shm.") + fn + "(\"" + name +
                 "\"): byteLength must be a positive integer, got " +
                 info[1].ToString().Utf8Value());
    return false;
  }
  const uint64_t length = static_cast<uint64_t>(value);
  if (length > static_cast<uint64_t>(SIZE_MAX) ||
      (sizeof(off_t) < sizeof(uint64_t) && length > static_cast<uint64_t>(INT32_MAX))) {
    ThrowArg(env, true, "ERR_OUT_OF_RANGE",
             std::string("shm.") + fn + "(\"" + name + "\"): byteLength " +
                 std::to_string(length) + " is too large for this platform");
    return false;
  }
  *out = static_cast<size_t>(length);
  return true;
}

// Set while WrapMapping asks Node for an ArrayBuffer, so that we can tell whether Node already
// ran our finalizer when that call fails (Node 20 does so synchronously on some failures).
// Addon calls only ever run on their env's JS thread, hence thread_local.
thread_local void* g_wrapping = nullptr;
thread_local bool g_wrapping_finalized = false;

void FinalizeMapping(napi_env env, void* data, void* hint) {
  const size_t length = reinterpret_cast<size_t>(hint);
  munmap(data, length);
  int64_t ignored = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(length), &ignored);
  if (data == g_wrapping) g_wrapping_finalized = true;
}

// Hands `addr` (a mapping of `length` bytes) to a new external ArrayBuffer whose finalizer
// unmaps it. On failure the mapping is unmapped (here or by Node) and a JS error is pending.
napi_value WrapMapping(Napi::Env env, void* addr, size_t length, const char* fn,
                       const std::string& name) {
  int64_t ignored = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(length), &ignored);

  napi_value result = nullptr;
  g_wrapping = addr;
  g_wrapping_finalized = false;
  const napi_status status = napi_create_external_arraybuffer(
      env, addr, length, FinalizeMapping, reinterpret_cast<void*>(length), &result);
  const bool finalized = g_wrapping_finalized;
  g_wrapping = nullptr;
  g_wrapping_finalized = false;
  if (status == napi_ok) return result;

  if (!finalized) {
    munmap(addr, length);
    napi_adjust_external_memory(env, -static_cast<int64_t>(length), &ignored);
  }
  std::string cause;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception = nullptr;
    napi_get_and_clear_last_exception(env, &exception);
    cause = Napi::Value(env, exception).ToString().Utf8Value();
  } else {
    const napi_extended_error_info* info = nullptr;
    napi_get_last_error_info(env, &info);
    cause = info != nullptr && info->error_message != nullptr ? info->error_message
                                                              : "unknown N-API error";
  }
  ThrowArg(env, true, "ERR_SHM_ARRAYBUFFER",
           std::string("shm.") + fn + "(\"" + name + "\"): cannot expose " +
               std::to_string(length) + " bytes as an ArrayBuffer: " + cause);
  return nullptr;
}

Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  size_t length = 0;
  if (!GetName(info, "create", &name) || !GetByteLength(info, "create", name, &length)) {
    return env.Undefined();
  }

  const int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    ThrowErrno(env, errno, "shm_open", name, " (O_CREAT|O_EXCL|O_RDWR, 0600)");
    return env.Undefined();
  }
  // From here on, any failure closes the descriptor and removes the name we created.
  auto fail = [&](const char* syscall, int err, const std::string& detail) {
    close(fd);
    shm_unlink(name.c_str());
    ThrowErrno(env, err, syscall, name, detail);
    return env.Undefined();
  };

  // The umask may have cleared bits of 0600; the owner needs both read and write.
  if (fchmod(fd, 0600) != 0) return fail("fchmod", errno, " (0600)");
  if (ftruncate(fd, static_cast<off_t>(length)) != 0) {
    return fail("ftruncate", errno, " (" + std::to_string(length) + " bytes)");
  }
#if defined(__linux__)
  // Reserve the pages now: on a full tmpfs (Docker's default /dev/shm is 64 MiB) this fails
  // with ENOSPC instead of the process dying of SIGBUS on its first write to the mapping.
  {
    int err;
    do {
      err = posix_fallocate(fd, 0, static_cast<off_t>(length));
    } while (err == EINTR);
    if (err != 0) {
      return fail("posix_fallocate", err, " (" + std::to_string(length) + " bytes)");
    }
  }
#endif
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    return fail("mmap", errno, " (" + std::to_string(length) + " bytes)");
  }
  close(fd);  // The mapping keeps the segment alive.

  napi_value buffer = WrapMapping(env, addr, length, "create", name);
  if (buffer == nullptr) {
    shm_unlink(name.c_str());
    return env.Undefined();
  }
  return Napi::Value(env, buffer);
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  size_t length = 0;
  if (!GetName(info, "open", &name) || !GetByteLength(info, "open", name, &length)) {
    return env.Undefined();
  }

  const int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "shm_open", name, " (O_RDWR)");
    return env.Undefined();
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    ThrowErrno(env, err, "fstat", name);
    return env.Undefined();
  }
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) < static_cast<uint64_t>(length)) {
    close(fd);
    ThrowArg(env, true, "ERR_SHM_TOO_SMALL",
             "shm.open(\"" + name + "\"): the segment has " + std::to_string(st.st_size) +
                 " bytes, fewer than the " + std::to_string(length) + " requested");
    return env.Undefined();
  }
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    close(fd);
    ThrowErrno(env, err, "mmap", name, " (" + std::to_string(length) + " bytes)");
    return env.Undefined();
  }
  close(fd);

  napi_value buffer = WrapMapping(env, addr, length, "open", name);
  if (buffer == nullptr) return env.Undefined();
  return Napi::Value(env, buffer);
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!GetName(info, "unlink", &name)) return env.Undefined();
  if (shm_unlink(name.c_str()) == 0) return Napi::Boolean::New(env, true);
  const int err = errno;
  if (err == ENOENT) return Napi::Boolean::New(env, false);
  ThrowErrno(env, err, "shm_unlink", name);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create, "create"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  return exports;
}

}  // namespace

NODE_API_MODULE(torchbridge_shm, Init)
