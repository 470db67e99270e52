export { conversationWorkflow } from './conversation';
export { unrecognizedPayloadWorkflow } from './unrecognized-payloads';
