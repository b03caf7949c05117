# SPDX-License-Identifier: MIT
"""Config: AWS bodies accepted, AWS's rejections raised with their code and message."""
import unittest

import batchpoint as bp
from batchpoint import errors

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


class ConfigTest(unittest.TestCase):
    def test_body_accepted(self):
        c = bp.Config.from_json('{"EventSourceArn": "%s", "FunctionName": "f", '
                                '"StartingPosition": "LATEST", "BatchSize": 7}' % ARN)
        self.assertEqual((c.source, c.batch_size, c.function_name), ("kinesis", 7, "f"))

    def test_keyword_members(self):
        c = bp.Config(EventSourceArn=ARN, FunctionName="f", StartingPosition="LATEST",
                      BatchSize=3)
        self.assertEqual(c.batch_size, 3)

    def test_batch_size_zero_is_aws_validation_error(self):
        with self.assertRaises(errors.ConfigInvalidError) as cm:
            bp.Config.from_json({"EventSourceArn": ARN, "FunctionName": "f",
                                 "StartingPosition": "LATEST", "BatchSize": 0})
        e = cm.exception
        self.assertEqual(e.code, -11)
        self.assertEqual(e.name, "BP_ERR_CONFIG_INVALID")
        self.assertEqual(e.error_type, "ValidationException")
        self.assertEqual(str(e), "1 validation error detected: Value '0' at 'batchSize' failed "
                         "to satisfy constraint: Member must have value greater than or "
                         "equal to 1")
        self.assertIsInstance(e, bp.BatchpointError)

    def test_missing_arn(self):
        with self.assertRaises(errors.ConfigInvalidError) as cm:
            bp.Config.from_json({"FunctionName": "f", "StartingPosition": "LATEST"})
        self.assertEqual(str(cm.exception), "Unrecognized event source.")
        self.assertEqual(cm.exception.error_type, "InvalidParameterValueException")

    def test_bad_json(self):
        with self.assertRaises(errors.InvalidJsonError) as cm:
            bp.Config.from_json("{")
        self.assertTrue(str(cm.exception).startswith("Could not parse request body into json"))

    def test_unknown_parameter_by_name(self):
        c = bp.Config()
        with self.assertRaises(errors.ConfigUnknownError):
            c.set("NoSuchThing", "1")

    def test_classes_follow_the_library_table(self):
        self.assertEqual(errors.FatalError.code, -900)
        self.assertTrue(issubclass(errors.CallbackFailureError, bp.FatalError))
        self.assertFalse(issubclass(errors.NomemError, bp.FatalError))
        self.assertEqual(errors.BY_CODE[-1].name, "BP_ERR_INVALID_ARGUMENT")


if __name__ == "__main__":
    unittest.main()
