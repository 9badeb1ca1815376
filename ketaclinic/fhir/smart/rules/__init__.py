"""The pure rules of SMART authorisation (no Django): scopes and what a request asks for."""
