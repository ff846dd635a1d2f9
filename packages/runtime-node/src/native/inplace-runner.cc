// The in-place runner: ONNX Runtime sessions run through its C API on the library that onnxruntime-node ships,
// with every input and every output bound to memory that JavaScript owns.
//
// onnxruntime-node 1.30's binding copies each fetched output into a new JavaScript ArrayBuffer after the run, a
// pre-allocated one too. For a key/value cache that ONNX Runtime updates in place (GroupQueryAttention with past and
// present in one buffer) that copy is the whole cache at every step. Here an output is an OrtValue over the caller's
// typed array, so ONNX Runtime writes into it and nothing is copied afterwards.
//
// JavaScript API (wrapped and checked by src/native-runner.ts):
//   load(libraryPath) -> version string
//   createSession(modelPath, options) -> Promise<Session>
//   Session: inputNames, outputNames, run(inputs, outputs) -> Promise<void>, endProfiling() -> path, release()
// A binding is [name, elementType, dims, typedArray]; every output of a run is such a binding (pre-allocated).
#include <dlfcn.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <napi.h>

#include "ort-c-api.h"

namespace {

using namespace ort_c_api;

struct Library {
  const OrtApi* api = nullptr;
  OrtEnv* env = nullptr;
  OrtMemoryInfo* cpu = nullptr;
  OrtAllocator* allocator = nullptr;
  std::string version;
};

Library library;

template <typename F>
F Api(Entry entry) {
  return Function<F>(library.api, entry);
}

// The message of `status` (then released), or an empty string for success.
std::string Take(OrtStatus* status) {
  if (status == nullptr) return {};
  std::string message = Api<GetErrorMessageFn>(kGetErrorMessage)(status);
  Api<ReleaseFn>(kReleaseStatus)(status);
  return message.empty() ? std::string("ONNX Runtime failed without a message") : message;
}

void ThrowIf(Napi::Env env, OrtStatus* status, const std::string& what) {
  std::string message = Take(status);
  if (!message.empty()) throw Napi::Error::New(env, what + ": " + message);
}

size_t ElementSize(int type) {
  switch (type) {
    case kBool:
    case kInt8:
    case kUint8:
      return 1;
    case kInt16:
    case kUint16:
    case kFloat16:
      return 2;
    case kFloat:
    case kInt32:
    case kUint32:
      return 4;
    case kInt64:
    case kUint64:
    case kDouble:
      return 8;
    default:
      return 0;
  }
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "load(libraryPath): libraryPath must be a string");
  if (library.api != nullptr) return Napi::String::New(env, library.version);
  std::string path = info[0].As<Napi::String>();
  // RTLD_NOLOAD first: onnxruntime-node's binding has usually loaded this very file already.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw Napi::Error::New(env, std::string("cannot load ") + path + ": " + dlerror());
  auto get_api_base = reinterpret_cast<OrtGetApiBaseFunction>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) throw Napi::Error::New(env, path + " has no OrtGetApiBase: not an ONNX Runtime library");
  const OrtApiBase* base = get_api_base();
  const OrtApi* api = base->GetApi(kRequestedApiVersion);
  if (api == nullptr)
    throw Napi::Error::New(env, std::string("ONNX Runtime ") + base->GetVersionString() + " has no C API version " +
                                    std::to_string(kRequestedApiVersion));
  library.api = api;
  library.version = base->GetVersionString();
  ThrowIf(env, Api<CreateEnvFn>(kCreateEnv)(kLoggingLevelError, "video-llava-inplace", &library.env), "CreateEnv");
  ThrowIf(env, Api<CreateCpuMemoryInfoFn>(kCreateCpuMemoryInfo)(kDeviceAllocator, kMemTypeDefault, &library.cpu),
          "CreateCpuMemoryInfo");
  ThrowIf(env, Api<GetAllocatorFn>(kGetAllocatorWithDefaultOptions)(&library.allocator), "GetAllocatorWithDefaultOptions");
  return Napi::String::New(env, library.version);
}

// One tensor of a run: an OrtValue over a typed array's memory, and a reference that keeps the array alive until the
// run has finished.
struct Binding {
  std::string name;
  OrtValue* value = nullptr;
  Napi::ObjectReference array;
};

void ReleaseBindings(std::vector<Binding>& bindings) {
  for (Binding& binding : bindings) {
    if (binding.value != nullptr) Api<ReleaseFn>(kReleaseValue)(binding.value);
    binding.value = nullptr;
  }
}

// [name, elementType, dims, typedArray] -> Binding. `what` names the argument in errors.
Binding Bind(Napi::Env env, Napi::Value item, const std::string& what) {
  if (!item.IsArray()) throw Napi::TypeError::New(env, what + " must be [name, elementType, dims, typedArray]");
  Napi::Array tuple = item.As<Napi::Array>();
  Napi::Value name = tuple.Get(0u), type = tuple.Get(1u), dims = tuple.Get(2u), data = tuple.Get(3u);
  if (!name.IsString() || !type.IsNumber() || !dims.IsArray() || !data.IsTypedArray())
    throw Napi::TypeError::New(env, what + " must be [name, elementType, dims, typedArray]");
  Binding binding;
  binding.name = name.As<Napi::String>();
  int element_type = type.As<Napi::Number>().Int32Value();
  size_t element_size = ElementSize(element_type);
  if (element_size == 0)
    throw Napi::TypeError::New(env, what + " (" + binding.name + "): unsupported element type " +
                                        std::to_string(element_type));
  Napi::Array dim_array = dims.As<Napi::Array>();
  std::vector<int64_t> shape(dim_array.Length());
  size_t count = 1;
  for (uint32_t i = 0; i < dim_array.Length(); i++) {
    Napi::Value dim = dim_array.Get(i);
    int64_t value = dim.IsNumber() ? dim.As<Napi::Number>().Int64Value() : -1;
    if (value < 0) throw Napi::TypeError::New(env, what + " (" + binding.name + "): dims must be counts (0 or more)");
    shape[i] = value;
    count *= static_cast<size_t>(value);
  }
  Napi::TypedArray array = data.As<Napi::TypedArray>();
  size_t byte_length = array.ByteLength();
  if (byte_length != count * element_size)
    throw Napi::RangeError::New(env, what + " (" + binding.name + "): " + std::to_string(byte_length) +
                                         " bytes for " + std::to_string(count) + " elements of " +
                                         std::to_string(element_size) + " bytes");
  auto* pointer = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  ThrowIf(env,
          Api<CreateTensorWithDataFn>(kCreateTensorWithDataAsOrtValue)(library.cpu, pointer, byte_length, shape.data(),
                                                                       shape.size(), element_type, &binding.value),
          what + " (" + binding.name + ")");
  binding.array = Napi::Persistent(array.As<Napi::Object>());
  return binding;
}

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::FunctionReference constructor;

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "InplaceSession",
                       {InstanceMethod("run", &Session::Run), InstanceMethod("release", &Session::Release),
                        InstanceMethod("endProfiling", &Session::EndProfiling),
                        InstanceAccessor("inputNames", &Session::InputNames, nullptr),
                        InstanceAccessor("outputNames", &Session::OutputNames, nullptr),
                        InstanceMethod("inputTypes", &Session::InputTypes),
                        InstanceMethod("outputTypes", &Session::OutputTypes)});
  }

  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    // Made by createSession only, which hands over the OrtSession through an External.
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "InplaceSession is made by createSession");
    session_ = info[0].As<Napi::External<OrtSession>>().Data();
    input_names_ = Names(info.Env(), kSessionGetInputCount, kSessionGetInputName);
    output_names_ = Names(info.Env(), kSessionGetOutputCount, kSessionGetOutputName);
  }

  ~Session() override { Close(); }

  OrtSession* Handle(Napi::Env env) const {
    if (session_ == nullptr) throw Napi::Error::New(env, "the session was released");
    return session_;
  }

  // Runs queued or running: release() waits for none (the wrapper in native-runner.ts queues), so it refuses.
  int running = 0;

 private:
  std::vector<std::string> Names(Napi::Env env, Entry count_entry, Entry name_entry) {
    size_t count = 0;
    ThrowIf(env, Api<SessionGetCountFn>(count_entry)(session_, &count), "SessionGetInputCount/OutputCount");
    std::vector<std::string> names;
    for (size_t i = 0; i < count; i++) {
      char* name = nullptr;
      ThrowIf(env, Api<SessionGetNameFn>(name_entry)(session_, i, library.allocator, &name), "SessionGetName");
      names.emplace_back(name);
      Take(Api<AllocatorFreeFn>(kAllocatorFree)(library.allocator, name));
    }
    return names;
  }

  static Napi::Array ToArray(Napi::Env env, const std::vector<std::string>& names) {
    Napi::Array array = Napi::Array::New(env, names.size());
    for (uint32_t i = 0; i < names.size(); i++) array.Set(i, names[i]);
    return array;
  }

  // [{ name, elementType (0: not a tensor), dims: (number | string)[] }], a symbolic dimension by its name (or '').
  Napi::Value Types(Napi::Env env, const std::vector<std::string>& names, Entry type_entry) {
    Napi::Array types = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) {
      OrtTypeInfo* type_info = nullptr;
      ThrowIf(env, Api<SessionGetTypeInfoFn>(type_entry)(session_, i, &type_info), "SessionGetTypeInfo");
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", names[i]);
      const OrtTensorTypeAndShapeInfo* tensor = nullptr;
      std::string error = Take(Api<CastTypeInfoToTensorInfoFn>(kCastTypeInfoToTensorInfo)(type_info, &tensor));
      int element_type = 0;
      Napi::Array dims = Napi::Array::New(env);
      if (error.empty() && tensor != nullptr) {
        size_t count = 0;
        error = Take(Api<GetTensorElementTypeFn>(kGetTensorElementType)(tensor, &element_type));
        if (error.empty()) error = Take(Api<GetDimensionsCountFn>(kGetDimensionsCount)(tensor, &count));
        std::vector<int64_t> values(count);
        std::vector<const char*> symbols(count, nullptr);
        if (error.empty()) error = Take(Api<GetDimensionsFn>(kGetDimensions)(tensor, values.data(), count));
        if (error.empty())
          error = Take(Api<GetSymbolicDimensionsFn>(kGetSymbolicDimensions)(tensor, symbols.data(), count));
        for (uint32_t d = 0; d < count && error.empty(); d++) {
          if (values[d] >= 0)
            dims.Set(d, Napi::Number::New(env, static_cast<double>(values[d])));
          else
            dims.Set(d, Napi::String::New(env, symbols[d] != nullptr ? symbols[d] : ""));
        }
      }
      Api<ReleaseFn>(kReleaseTypeInfo)(type_info);
      if (!error.empty()) throw Napi::Error::New(env, "the type of " + names[i] + ": " + error);
      entry.Set("elementType", element_type);
      entry.Set("dims", dims);
      types.Set(static_cast<uint32_t>(i), entry);
    }
    return types;
  }

  Napi::Value InputTypes(const Napi::CallbackInfo& info) {
    Handle(info.Env());
    return Types(info.Env(), input_names_, kSessionGetInputTypeInfo);
  }
  Napi::Value OutputTypes(const Napi::CallbackInfo& info) {
    Handle(info.Env());
    return Types(info.Env(), output_names_, kSessionGetOutputTypeInfo);
  }

  Napi::Value InputNames(const Napi::CallbackInfo& info) { return ToArray(info.Env(), input_names_); }
  Napi::Value OutputNames(const Napi::CallbackInfo& info) { return ToArray(info.Env(), output_names_); }

  void Close() {
    if (session_ != nullptr) Api<ReleaseFn>(kReleaseSession)(session_);
    session_ = nullptr;
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (running > 0) throw Napi::Error::New(info.Env(), "release() while a run is in flight");
    Close();
    return info.Env().Undefined();
  }

  Napi::Value EndProfiling(const Napi::CallbackInfo& info) {
    char* path = nullptr;
    ThrowIf(info.Env(), Api<SessionEndProfilingFn>(kSessionEndProfiling)(Handle(info.Env()), library.allocator, &path),
            "SessionEndProfiling");
    std::string file = path != nullptr ? path : "";
    if (path != nullptr) Take(Api<AllocatorFreeFn>(kAllocatorFree)(library.allocator, path));
    return Napi::String::New(info.Env(), file);
  }

  Napi::Value Run(const Napi::CallbackInfo& info);

  OrtSession* session_ = nullptr;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
};

Napi::FunctionReference Session::constructor;

// A run on libuv's thread pool. Its bindings (and through them the typed arrays) and the session object stay
// referenced until it has finished; the OrtValues are released on the main thread afterwards.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, Napi::Object owner, Session* session, std::vector<Binding> inputs,
            std::vector<Binding> outputs)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(Napi::Persistent(owner)),
        wrapper_(session),
        session_(session->Handle(env)),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)) {
    wrapper_->running++;
  }

  ~RunWorker() override {
    wrapper_->running--;
    ReleaseBindings(inputs_);
    ReleaseBindings(outputs_);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::vector<const char*> input_names, output_names;
    std::vector<const OrtValue*> input_values;
    std::vector<OrtValue*> output_values;
    for (const Binding& binding : inputs_) {
      input_names.push_back(binding.name.c_str());
      input_values.push_back(binding.value);
    }
    for (const Binding& binding : outputs_) {
      output_names.push_back(binding.name.c_str());
      output_values.push_back(binding.value);
    }
    std::string message = Take(Api<RunFn>(kRun)(session_, nullptr, input_names.data(), input_values.data(),
                                                input_names.size(), output_names.data(), output_names.size(),
                                                output_values.data()));
    // ONNX Runtime writes pre-allocated outputs in place and leaves the OrtValue pointers as they were.
    for (size_t i = 0; i < outputs_.size() && message.empty(); i++)
      if (output_values[i] != outputs_[i].value) message = "ONNX Runtime replaced the output " + outputs_[i].name;
    if (!message.empty()) SetError(message);
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference owner_;
  Session* wrapper_;
  OrtSession* session_;
  std::vector<Binding> inputs_;
  std::vector<Binding> outputs_;
};

Napi::Value Session::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle(env);
  if (!info[0].IsArray() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "run(inputs, outputs): both must be arrays of bindings");
  std::vector<Binding> inputs, outputs;
  try {
    Napi::Array input_array = info[0].As<Napi::Array>(), output_array = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < input_array.Length(); i++) inputs.push_back(Bind(env, input_array.Get(i), "input"));
    for (uint32_t i = 0; i < output_array.Length(); i++) outputs.push_back(Bind(env, output_array.Get(i), "output"));
  } catch (...) {
    ReleaseBindings(inputs);
    ReleaseBindings(outputs);
    throw;
  }
  auto* worker = new RunWorker(env, info.This().As<Napi::Object>(), this, std::move(inputs), std::move(outputs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Session options from a plain object: { intraOpThreads, interOpThreads, graphOptimizationLevel, sequential,
// profilePrefix, config: { key: value } }. Returns the options' error, or an empty string.
std::string ApplyOptions(Napi::Env env, OrtSessionOptions* options, Napi::Object object) {
  auto integer = [&](const char* key, Entry entry) -> std::string {
    Napi::Value value = object.Get(key);
    if (value.IsUndefined()) return {};
    if (!value.IsNumber()) return std::string(key) + " must be a number";
    return Take(Api<SetIntOptionFn>(entry)(options, value.As<Napi::Number>().Int32Value()));
  };
  // A failed run's message comes back to the caller: ONNX Runtime need not also print it.
  std::string error = Take(Api<SetIntOptionFn>(kSetSessionLogSeverityLevel)(options, kLoggingLevelFatal));
  if (error.empty()) error = integer("intraOpThreads", kSetIntraOpNumThreads);
  if (error.empty()) error = integer("interOpThreads", kSetInterOpNumThreads);
  if (error.empty()) error = integer("graphOptimizationLevel", kSetSessionGraphOptimizationLevel);
  if (error.empty()) error = integer("executionMode", kSetSessionExecutionMode);
  Napi::Value prefix = object.Get("profilePrefix");
  if (error.empty() && prefix.IsString())
    error = Take(Api<EnableProfilingFn>(kEnableProfiling)(options, prefix.As<Napi::String>().Utf8Value().c_str()));
  Napi::Value config = object.Get("config");
  if (error.empty() && config.IsObject()) {
    Napi::Object entries = config.As<Napi::Object>();
    Napi::Array keys = entries.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length() && error.empty(); i++) {
      std::string key = keys.Get(i).ToString();
      std::string value = entries.Get(key).ToString();
      error = Take(Api<AddSessionConfigEntryFn>(kAddSessionConfigEntry)(options, key.c_str(), value.c_str()));
    }
  }
  return error;
}

// Loads a model on libuv's thread pool (a 7B decoder takes seconds).
class CreateWorker : public Napi::AsyncWorker {
 public:
  CreateWorker(Napi::Env env, std::string path, OrtSessionOptions* options)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), options_(options) {}

  ~CreateWorker() override {
    if (options_ != nullptr) Api<ReleaseFn>(kReleaseSessionOptions)(options_);
    if (session_ != nullptr) Api<ReleaseFn>(kReleaseSession)(session_);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string message = Take(Api<CreateSessionFn>(kCreateSession)(library.env, path_.c_str(), options_, &session_));
    if (!message.empty()) SetError(message);
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      Napi::Object session = Session::constructor.New({Napi::External<OrtSession>::New(env, session_)});
      session_ = nullptr;  // owned by the Session now
      deferred_.Resolve(session);
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  OrtSessionOptions* options_;
  OrtSession* session_ = nullptr;
};

Napi::Value CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (library.api == nullptr) throw Napi::Error::New(env, "load(libraryPath) must be called first");
  if (!info[0].IsString() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "createSession(modelPath, options): a string and an object");
  OrtSessionOptions* options = nullptr;
  ThrowIf(env, Api<CreateSessionOptionsFn>(kCreateSessionOptions)(&options), "CreateSessionOptions");
  std::string error = ApplyOptions(env, options, info[1].As<Napi::Object>());
  if (!error.empty()) {
    Api<ReleaseFn>(kReleaseSessionOptions)(options);
    throw Napi::Error::New(env, "session options: " + error);
  }
  auto* worker = new CreateWorker(env, info[0].As<Napi::String>(), options);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function session = Session::Define(env);
  Session::constructor = Napi::Persistent(session);
  Session::constructor.SuppressDestruct();
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("createSession", Napi::Function::New(env, CreateSession));
  return exports;
}

}  // namespace

NODE_API_MODULE(video_llava_inplace, Init)
