// The model `y = Identity(x)`, x and y float32[1], opset 13, as @video-llava/onnx encodes it (probe-model.test.ts
// rebuilds it and compares). Kept as bytes so that backends need no model writer to probe a provider.
const PROBE_MODEL_BASE64 =
  'CAgSDnZpZGVvLWxsYXZhLmpzOoUBCiwKAXgSEUlkZW50aXR5XzBfb3V0cHV0GgpJZGVudGl0eV8wIghJZGVudGl0eQosChFJZGVudGl0eV8wX291dHB1dBIBeRoKSWRlbnRpdHlfeSIISWRlbnRpdHkSBXByb2JlWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==';

/**
 * A tiny valid ONNX model (`y = Identity(x)`, float32[1]). A backend loads it with one execution provider to tell
 * "this provider is not available here" from "this model cannot be loaded".
 */
export function probeModelBytes(): Uint8Array {
  const text = atob(PROBE_MODEL_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}
