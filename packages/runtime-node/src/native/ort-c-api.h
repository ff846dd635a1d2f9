// The slice of ONNX Runtime's C API that the in-place runner calls, declared here by hand.
//
// ONNX Runtime's C API is one table of function pointers (`OrtApi`) that only ever grows at its end, so a function's
// position in it is fixed from the release that added it onwards. The runner asks the library for the table of API
// version kRequestedApiVersion and calls the entries by their positions below; every function used here is in the
// table since API version 13 (ONNX Runtime 1.13), long before the onnxruntime-node 1.30.0 whose library it loads.
// The signatures are those of the C API's documentation for each function; the enum values are ONNX's.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
struct OrtEnv;
struct OrtStatus;
struct OrtMemoryInfo;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtRunOptions;
struct OrtAllocator;
struct OrtTypeInfo;
struct OrtTensorTypeAndShapeInfo;
struct OrtApi;

struct OrtApiBase {
  const OrtApi* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
typedef const OrtApiBase* (*OrtGetApiBaseFunction)();
}

namespace ort_c_api {

// The API version asked of the library: any release from 1.13 on returns a table holding every entry below.
constexpr uint32_t kRequestedApiVersion = 13;

// Positions in the OrtApi table.
enum Entry : size_t {
  kGetErrorCode = 1,
  kGetErrorMessage = 2,
  kCreateEnv = 3,
  kCreateSession = 7,
  kRun = 9,
  kCreateSessionOptions = 10,
  kSetSessionExecutionMode = 13,
  kEnableProfiling = 14,
  kSetSessionLogSeverityLevel = 22,
  kSetSessionGraphOptimizationLevel = 23,
  kSetIntraOpNumThreads = 24,
  kSetInterOpNumThreads = 25,
  kSessionGetInputCount = 30,
  kSessionGetOutputCount = 31,
  kSessionGetInputTypeInfo = 33,
  kSessionGetOutputTypeInfo = 34,
  kSessionGetInputName = 36,
  kSessionGetOutputName = 37,
  kCreateTensorWithDataAsOrtValue = 49,
  kCastTypeInfoToTensorInfo = 55,
  kGetTensorElementType = 60,
  kGetDimensionsCount = 61,
  kGetDimensions = 62,
  kGetSymbolicDimensions = 63,
  kCreateCpuMemoryInfo = 69,
  kAllocatorFree = 76,
  kGetAllocatorWithDefaultOptions = 78,
  kReleaseEnv = 92,
  kReleaseStatus = 93,
  kReleaseMemoryInfo = 94,
  kReleaseSession = 95,
  kReleaseValue = 96,
  kReleaseTypeInfo = 98,
  kReleaseSessionOptions = 100,
  kSessionEndProfiling = 110,
  kAddSessionConfigEntry = 130,
};

// ONNX's TensorProto.DataType values, which ONNX Runtime's element types follow.
enum ElementType : int {
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
};

constexpr int kLoggingLevelError = 3;  // OrtLoggingLevel: ORT_LOGGING_LEVEL_ERROR
constexpr int kLoggingLevelFatal = 4;  // ORT_LOGGING_LEVEL_FATAL
constexpr int kDeviceAllocator = 0;    // OrtAllocatorType: OrtDeviceAllocator
constexpr int kMemTypeDefault = 0;     // OrtMemType: OrtMemTypeDefault

using GetErrorCodeFn = int (*)(const OrtStatus*);
using GetErrorMessageFn = const char* (*)(const OrtStatus*);
using CreateEnvFn = OrtStatus* (*)(int, const char*, OrtEnv**);
using CreateSessionFn = OrtStatus* (*)(const OrtEnv*, const char*, const OrtSessionOptions*, OrtSession**);
using RunFn = OrtStatus* (*)(OrtSession*, const OrtRunOptions*, const char* const*, const OrtValue* const*, size_t,
                             const char* const*, size_t, OrtValue**);
using CreateSessionOptionsFn = OrtStatus* (*)(OrtSessionOptions**);
using SetIntOptionFn = OrtStatus* (*)(OrtSessionOptions*, int);
using EnableProfilingFn = OrtStatus* (*)(OrtSessionOptions*, const char*);
using SessionGetCountFn = OrtStatus* (*)(const OrtSession*, size_t*);
using SessionGetNameFn = OrtStatus* (*)(const OrtSession*, size_t, OrtAllocator*, char**);
using CreateTensorWithDataFn = OrtStatus* (*)(const OrtMemoryInfo*, void*, size_t, const int64_t*, size_t, int,
                                              OrtValue**);
using CreateCpuMemoryInfoFn = OrtStatus* (*)(int, int, OrtMemoryInfo**);
using AllocatorFreeFn = OrtStatus* (*)(OrtAllocator*, void*);
using GetAllocatorFn = OrtStatus* (*)(OrtAllocator**);
using ReleaseFn = void (*)(void*);
using SessionEndProfilingFn = OrtStatus* (*)(OrtSession*, OrtAllocator*, char**);
using SessionGetTypeInfoFn = OrtStatus* (*)(const OrtSession*, size_t, OrtTypeInfo**);
using CastTypeInfoToTensorInfoFn = OrtStatus* (*)(const OrtTypeInfo*, const OrtTensorTypeAndShapeInfo**);
using GetTensorElementTypeFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int*);
using GetDimensionsCountFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*);
using GetDimensionsFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t);
using GetSymbolicDimensionsFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, const char**, size_t);
using AddSessionConfigEntryFn = OrtStatus* (*)(OrtSessionOptions*, const char*, const char*);

// The function at `entry` of `api`, as type F.
template <typename F>
F Function(const OrtApi* api, Entry entry) {
  return reinterpret_cast<F>(reinterpret_cast<void* const*>(api)[entry]);
}

}  // namespace ort_c_api
