//! The few json-c calls the module needs, and an owner that drops its reference.
//! A reply is handed to json-c as text: one parse call instead of a constructor per
//! node keeps the unsafe surface to three functions and leaves no half-built tree to
//! free on an error path.

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::NonNull;

use serde_json::Value as Json;

/// json-c's `struct json_object`, only ever behind a pointer.
#[repr(C)]
pub struct JsonObject {
    _opaque: [u8; 0],
}

#[link(name = "json-c")]
unsafe extern "C" {
    fn json_tokener_parse(text: *const c_char) -> *mut JsonObject;
    fn json_object_put(object: *mut JsonObject) -> c_int;
    fn json_object_to_json_string(object: *mut JsonObject) -> *const c_char;
}

/// One reference to a json-c object; dropping it releases the reference.
pub struct Owned(NonNull<JsonObject>);

impl Owned {
    /// The json-c copy of `value` (refcount 1), or None if json-c refuses it.
    pub fn from_json(value: &Json) -> Option<Owned> {
        // serde_json escapes NUL inside strings, so the text has none; None if it did.
        let text = CString::new(value.to_string()).ok()?;
        // SAFETY: `text` is a valid NUL-terminated string that outlives the call.
        let raw = unsafe { json_tokener_parse(text.as_ptr()) };
        NonNull::new(raw).map(Owned)
    }

    /// Takes over a reference the caller owns (e.g. a provider's return value).
    ///
    /// # Safety
    /// `raw` is null or a live json-c object whose reference passes to the result.
    pub unsafe fn from_raw(raw: *mut JsonObject) -> Option<Owned> {
        NonNull::new(raw).map(Owned)
    }

    /// Hands the reference to the caller (respondd frees it after merging).
    pub fn into_raw(self) -> *mut JsonObject {
        let raw = self.0.as_ptr();
        std::mem::forget(self);
        raw
    }

    /// json-c's own serialisation of the object.
    pub fn to_json_string(&self) -> Option<String> {
        // SAFETY: the object is live; json-c keeps the string until the object is freed,
        // and it is copied before this borrow ends.
        let text = unsafe { json_object_to_json_string(self.0.as_ptr()) };
        if text.is_null() {
            return None;
        }
        // SAFETY: non-null and NUL-terminated by json-c.
        let text = unsafe { CStr::from_ptr(text) };
        text.to_str().ok().map(str::to_owned)
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: this owner holds exactly one reference.
        unsafe { json_object_put(self.0.as_ptr()) };
    }
}
