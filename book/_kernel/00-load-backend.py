# IPython start-up file for the kernels that execute the book (`make book` copies it into
# _build/ipython/profile_default/startup and points IPYTHONDIR there).
#
# TensorFlow writes its C++ start-up log on stderr while it loads and first touches a device
# ("All log messages before absl::InitializeLog()", oneDNN, "Could not find cuda drivers",
# "failed call to cuInit"), before TF_CPP_MIN_LOG_LEVEL or anything else can silence it.
# A kernel forwards what its process prints during a cell into that cell's output, so the
# log landed in stderr boxes of the rendered chapters. Loaded here, while the kernel starts
# and no cell runs, it goes to the build's console instead.
import os

if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    try:
        import tensorflow as _tf

        _tf.constant(0.0) + 1.0  # device initialisation, where cuInit is called
        del _tf
    except ImportError:
        pass
