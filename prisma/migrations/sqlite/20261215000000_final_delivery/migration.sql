-- AlterTable
ALTER TABLE "Job" ADD COLUMN "deliveringAt" DATETIME;
ALTER TABLE "Job" ADD COLUMN "deliveredAt" DATETIME;

-- CreateIndex
CREATE INDEX "Job_deliveringAt_idx" ON "Job"("deliveringAt");
