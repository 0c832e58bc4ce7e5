/*
 * h5 — scalar HDF5 attributes (include/cbound/h5.h).
 */
#include "cbound/h5.h"

#include <string.h>

static herr_t attr_scalar(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *val)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, mtype, val);
    if (a >= 0 && H5Aclose(a) < 0) e = -1;
    if (sp >= 0) H5Sclose(sp);
    return e;
}

herr_t cb_h5_attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    herr_t e = -1;
    if (H5Tset_size(t, strlen(value) + 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0 &&
        H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
        e = attr_scalar(obj, name, t, t, value);
    H5Tclose(t);
    return e;
}

herr_t cb_h5_attr_i64(hid_t obj, const char *name, int64_t v)
{
    return attr_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

herr_t cb_h5_attr_f64(hid_t obj, const char *name, double v)
{
    return attr_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}
