"""Line classification, modality and date helpers behind modules.policies.parser."""
