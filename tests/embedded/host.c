/* A minimal embedder of CPython, the way applications that bundle Python set it up.
 *
 * Built and run by tests/test_embedded_host.py:
 *     host SCRIPT PATH...
 * runs SCRIPT in an isolated interpreter whose module search path is exactly PATH...
 * (a trimmed copy of the standard library, its lib-dynload, and the application's own
 * package directory): no site, no environment variables, no user site, no bytecode
 * written. The exit status is the script's (Py_RunMain's).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

static int fail(PyConfig *config, PyStatus status)
{
    PyConfig_Clear(config);
    if (PyStatus_IsExit(status)) {
        return status.exitcode;
    }
    Py_ExitStatusException(status); /* prints the error and exits */
    return 1;
}

int main(int argc, char **argv)
{
    PyStatus status;
    PyConfig config;

    if (argc < 3) {
        fprintf(stderr, "usage: %s SCRIPT PATH...\n", argv[0]);
        return 2;
    }
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.module_search_paths_set = 1;
    for (int i = 2; i < argc; i++) {
        wchar_t *entry = Py_DecodeLocale(argv[i], NULL);
        if (entry == NULL) {
            fprintf(stderr, "host: cannot decode %s\n", argv[i]);
            PyConfig_Clear(&config);
            return 2;
        }
        status = PyWideStringList_Append(&config.module_search_paths, entry);
        PyMem_RawFree(entry);
        if (PyStatus_Exception(status)) {
            return fail(&config, status);
        }
    }
    /* home = the trimmed stdlib: the prefix is computed from it, not from the system. */
    status = PyConfig_SetBytesString(&config, &config.home, argv[2]);
    if (PyStatus_Exception(status)) {
        return fail(&config, status);
    }
    status = PyConfig_SetBytesString(&config, &config.run_filename, argv[1]);
    if (PyStatus_Exception(status)) {
        return fail(&config, status);
    }
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) {
        return fail(&config, status);
    }
    PyConfig_Clear(&config);
    return Py_RunMain();
}
